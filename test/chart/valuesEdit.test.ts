import { parse } from 'yaml';
import { applyImagesToChart, imageEdits } from '../../domain/chart/chartEdit.js';
import type { ImageUpdate } from '../../domain/chart/imageUpdate.js';
import { editYamlScalars } from '../../domain/chart/yamlEdit.js';
import { parseValuesPath } from '../../domain/chart/valuesPath.js';
import { FIXTURE_CHART_YAML, digestOf, lineDiff } from './fixtures.js';

/**
 * The values edit keeps every byte it was not asked to change. Each row gives a values file, the
 * images to write and exactly which lines must change (and to what); the diff is checked line
 * by line, so a reformatted comment, a re-quoted string or a re-indented block fails the row.
 */
const D1 = digestOf('one');
const D2 = digestOf('two');

function bump(values: string, images: ImageUpdate[], imagePath?: string): string {
  return editYamlScalars(values, imageEdits(values, images, imagePath ? { imagePath } : {}), 'values.yaml').text;
}

type Row = {
  name: string;
  values: string;
  images: ImageUpdate[];
  imagePath?: string;
  /** Lines (1-based) replaced in place, with their new text. */
  changed?: Record<number, string>;
  /** Lines added (1-based in the result), with their text. */
  added?: Record<number, string>;
};

const ROWS: Row[] = [
  {
    name: 'comments on, above and between the keys stay',
    values: `# Top comment.
services:
  # The storefront.
  frontend:
    image:
      repository: registry.test/frontend # where it lives
      # human-readable tag
      tag: "0000000"   # set by baton

      digest: ""  # pinned
    replicas: 2 # keep two
`,
    images: [{ service: 'frontend', tag: 'abc1234', digest: D1 }],
    changed: { 8: '      tag: "abc1234"   # set by baton', 10: `      digest: "${D1}"  # pinned` },
  },
  {
    name: 'anchors stay, a merge key gets explicit overrides, an aliased scalar becomes a value',
    values: `defaults: &defaultImage
  repository: registry.test/base
  tag: base
  digest: ""
sharedTag: &sharedTag v1
services:
  cart:
    image:
      <<: *defaultImage
      repository: registry.test/cart
  checkout:
    image:
      repository: registry.test/checkout
      tag: *sharedTag
      digest: ""
  other:
    tag: *sharedTag
`,
    images: [
      { service: 'cart', tag: 'abc1234', digest: D1 },
      { service: 'checkout', tag: 'def5678', digest: D2 },
    ],
    changed: { 14: '      tag: def5678', 15: `      digest: "${D2}"` },
    added: { 11: '      tag: abc1234', 12: `      digest: ${D1}` },
  },
  {
    name: 'a flow mapping stays on its one line, quoting per value',
    values: `services:
  email: {image: {repository: registry.test/email, tag: '0000000', digest: ""}, replicas: 1}
  ad: {image: {repository: registry.test/ad, tag: v1, digest: ""}}
`,
    images: [{ service: 'email', tag: 'abc1234', digest: D1 }],
    changed: { 2: `  email: {image: {repository: registry.test/email, tag: 'abc1234', digest: "${D1}"}, replicas: 1}` },
  },
  {
    name: 'quoting style is kept; a tag that would read as a number gets quoted',
    values: `services:
  single:
    image:
      repository: 'registry.test/single'
      tag: 'v1'
      digest: ''
  plain:
    image:
      repository: registry.test/plain
      tag: v1
      digest: none
  numeric:
    image:
      repository: registry.test/numeric
      tag: v1
      digest: ""
`,
    images: [
      { service: 'single', tag: 'v2', digest: D1, repository: 'registry.test/single2' },
      { service: 'plain', tag: 'v2', digest: D2 },
      { service: 'numeric', tag: '1234567', digest: D2 },
    ],
    changed: {
      4: "      repository: 'registry.test/single2'",
      5: "      tag: 'v2'",
      6: `      digest: '${D1}'`,
      10: '      tag: v2',
      11: `      digest: ${D2}`,
      15: '      tag: "1234567"',
      16: `      digest: "${D2}"`,
    },
  },
  {
    name: 'a service at depth 1',
    imagePath: '{service}.image',
    values: `frontend:
  image:
    repository: r/frontend
    tag: old
    digest: ""
backend:
  image: {repository: r/backend, tag: old, digest: ""}
`,
    images: [{ service: 'backend', tag: 'new1', digest: D1 }],
    changed: { 7: `  image: {repository: r/backend, tag: new1, digest: "${D1}"}` },
  },
  {
    name: 'a service deep in the tree, behind a sequence index',
    imagePath: 'stack.apps[1].{service}.deploy.container.image',
    values: `stack:
  apps:
    - frontend:
        deploy: {container: {image: {repository: r/f, tag: old, digest: ""}}}
    - payment:
        deploy:
          container:
            image:
              repository: r/p
              tag: old
              digest: ""
`,
    images: [{ service: 'payment', tag: 'new1', digest: D1 }],
    changed: { 10: '              tag: new1', 11: `              digest: "${D1}"` },
  },
  {
    name: 'long lines, odd indentation and blank lines elsewhere are not reflowed',
    values: `description: this line is far longer than eighty characters and a re-serialising writer would fold it somewhere
list:
- a
-   b

services:
    shipping:
        image:
            repository:   registry.test/shipping
            tag:    old
            digest: ""
`,
    images: [{ service: 'shipping', tag: 'new1', digest: D1 }],
    changed: { 10: '            tag:    new1', 11: `            digest: "${D1}"` },
  },
];

describe('values edit: only the intended lines change', () => {
  test.each(ROWS)('$name', (row) => {
    const after = bump(row.values, row.images, row.imagePath);
    const diff = lineDiff(row.values, after);
    const changed = row.changed ?? {};
    const added = row.added ?? {};
    expect(diff.removed.map((entry) => entry.line)).toEqual(Object.keys(changed).map(Number));
    expect(diff.added.map((entry) => entry.text).sort()).toEqual([...Object.values(changed), ...Object.values(added)].sort());
    const inserted = new Set(Object.values(added));
    expect(diff.added.filter((entry) => inserted.has(entry.text)).map((entry) => entry.line)).toEqual(Object.keys(added).map(Number));
    // And the result means what was asked.
    const values = parse(after, { merge: true }) as Record<string, unknown>;
    for (const image of row.images) {
      const path = parseValuesPath((row.imagePath ?? 'services.{service}.image').replace('{service}', image.service));
      const block = path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], values) as Record<string, string>;
      expect(block.tag).toBe(image.tag);
      expect(block.digest).toBe(image.digest);
      if (image.repository) expect(block.repository).toBe(image.repository);
    }
  });

  test('applying the same images again changes nothing', () => {
    const once = bump(ROWS[0]!.values, ROWS[0]!.images);
    const again = editYamlScalars(once, imageEdits(once, ROWS[0]!.images), 'values.yaml');
    expect(again.changed).toBe(false);
    expect(again.text).toBe(once);
  });
});

type FailureRow = { name: string; values: string; images: ImageUpdate[]; imagePath?: string; error: RegExp };

const GOOD = { tag: 'abc1234', digest: D1 };
const FAILURES: FailureRow[] = [
  { name: 'unknown service', values: 'services:\n  frontend:\n    image: {repository: r, tag: t, digest: ""}\n', images: [{ service: 'nope', ...GOOD }], error: /unknown service "nope": services\.nope\.image not found in values\.yaml/ },
  { name: 'malformed digest', values: 'services:\n  frontend:\n    image: {repository: r, tag: t, digest: ""}\n', images: [{ service: 'frontend', tag: 'abc1234', digest: 'sha256:XYZ' }], error: /malformed digest "sha256:XYZ" for service frontend/ },
  { name: 'tag with a space', values: 'services:\n  frontend:\n    image: {repository: r, tag: t, digest: ""}\n', images: [{ service: 'frontend', tag: 'a b', digest: D1 }], error: /invalid tag "a b"/ },
  { name: 'image is a string, not a mapping', values: 'services:\n  frontend:\n    image: "r/frontend:v1"\n', images: [{ service: 'frontend', ...GOOD }], error: /key "image" is not a mapping \(it is a scalar\)/ },
  { name: 'services is a sequence', values: 'services:\n  - frontend\n', images: [{ service: 'frontend', ...GOOD }], error: /unknown service "frontend"/ },
  { name: 'index out of range', imagePath: 'apps[3].{service}.image', values: 'apps:\n  - frontend:\n      image: {repository: r, tag: t, digest: ""}\n', images: [{ service: 'frontend', ...GOOD }], error: /unknown service "frontend": apps\[3\]\.frontend\.image not found/ },
  { name: 'image block is an alias of another block', values: 'base: &img {repository: r, tag: t, digest: ""}\nservices:\n  frontend:\n    image: *img\n', images: [{ service: 'frontend', ...GOOD }], error: /services\.frontend\.image is an alias \(\*img\)/ },
  { name: 'tag carries an anchor another key aliases', values: 'services:\n  frontend:\n    image:\n      repository: r\n      tag: &t v1\n      digest: ""\n  ad:\n    image: {repository: r2, tag: *t, digest: ""}\n', images: [{ service: 'frontend', ...GOOD }], error: /would also change services\.ad\.image\.tag/ },
  { name: 'tag without a value', values: 'services:\n  frontend:\n    image:\n      repository: r\n      tag:\n      digest: ""\n', images: [{ service: 'frontend', ...GOOD }], error: /key "tag" at services\.frontend\.image has no value/ },
  { name: 'two documents', values: 'services: {}\n---\nservices: {}\n', images: [{ service: 'frontend', ...GOOD }], error: /exactly one YAML document, found 2/ },
  { name: 'invalid YAML', values: 'services:\n  frontend: [\n', images: [{ service: 'frontend', ...GOOD }], error: /not valid YAML/ },
  { name: 'bad path template', imagePath: 'services..{service}', values: 'services: {}\n', images: [{ service: 'frontend', ...GOOD }], error: /invalid values path/ },
];

describe('values edit: failures say what is wrong', () => {
  test.each(FAILURES)('$name', (row) => {
    expect(() => bump(row.values, row.images, row.imagePath)).toThrow(row.error);
  });
});

describe('Chart.yaml', () => {
  const values = 'services:\n  frontend:\n    image:\n      repository: r\n      tag: old\n      digest: ""\n';

  test('version is patch-bumped and appVersion set; only those two lines change', () => {
    const result = applyImagesToChart({ chartYaml: FIXTURE_CHART_YAML, values }, [{ service: 'frontend', tag: 'abc1234', digest: D1 }]);
    expect(result).toMatchObject({ changed: true, chart: 'shop', version: '1.4.3', previousVersion: '1.4.2' });
    const diff = lineDiff(FIXTURE_CHART_YAML, result.texts.chartYaml);
    expect(diff.removed.map((entry) => entry.line)).toEqual([6, 7]);
    expect(diff.added.map((entry) => entry.text)).toEqual(['version: 1.4.3', 'appVersion: "abc1234"']);
  });

  test('a numeric-looking appVersion stays a string, and a missing appVersion is added', () => {
    const chartYaml = 'apiVersion: v2\nname: shop\nversion: 0.1.0 # bumped by baton\n';
    const result = applyImagesToChart({ chartYaml, values }, [{ service: 'frontend', tag: '1234567', digest: D1 }]);
    expect(result.texts.chartYaml).toBe('apiVersion: v2\nname: shop\nversion: 0.1.1 # bumped by baton\nappVersion: "1234567"\n');
    expect(parse(result.texts.chartYaml).appVersion).toBe('1234567');
  });

  test('a pre-release version is released by the patch bump', () => {
    const result = applyImagesToChart({ chartYaml: 'apiVersion: v2\nname: shop\nversion: 2.0.0-rc.1\n', values }, [{ service: 'frontend', tag: 'v9', digest: D1 }]);
    expect(result.version).toBe('2.0.0');
  });

  test('images the values already hold change nothing, not even the version', () => {
    const first = applyImagesToChart({ chartYaml: FIXTURE_CHART_YAML, values }, [{ service: 'frontend', tag: 'abc1234', digest: D1 }]);
    const second = applyImagesToChart(first.texts, [{ service: 'frontend', tag: 'abc1234', digest: D1 }]);
    expect(second).toMatchObject({ changed: false, version: '1.4.3' });
    expect(second.texts).toEqual(first.texts);
  });

  test('appVersion is left alone when the images carry different tags', () => {
    const two = `${values}  cart:\n    image: {repository: r2, tag: old, digest: ""}\n`;
    const result = applyImagesToChart({ chartYaml: FIXTURE_CHART_YAML, values: two }, [
      { service: 'frontend', tag: 'aaa', digest: D1 },
      { service: 'cart', tag: 'bbb', digest: D2 },
    ]);
    expect(parse(result.texts.chartYaml).appVersion).toBe('0000000');
  });

  test.each([
    ['version is not semver', 'apiVersion: v2\nname: shop\nversion: one\n', /version "one" is not semver/],
    ['name is missing', 'apiVersion: v2\nversion: 1.0.0\n', /"name" is missing/],
  ])('%s', (_name, chartYaml, error) => {
    expect(() => applyImagesToChart({ chartYaml, values }, [{ service: 'frontend', tag: 'v9', digest: D1 }])).toThrow(error);
  });
});
