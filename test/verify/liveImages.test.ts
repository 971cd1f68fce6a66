import { Ajv } from 'ajv';
import { ArgoCdApiError, ArgoCdClient, applicationTree } from '../../functions/deployWatch/argocdClient.js';
import { describeLiveImages, imageDigest, liveImagesMatch, serviceOfPod } from '../../domain/verify/liveImages.js';
import { startFakeArgoCd } from '../../standins/argocdApi.js';
import type { FakeArgoCd } from '../../standins/argocdApi.js';

/**
 * deployWatch's proof that the release is live: the Pods in Argo CD's resource tree run the
 * release's digests. The tree comes from the Argo CD stand-in over HTTP, through the real
 * client, and its shape is checked against Argo CD's own API description.
 */
const TOKEN = 'argocd-test-token-live-images-91c2';
const d = (char: string) => `sha256:${char.repeat(64)}`;
const image = (service: string, char: string) => `registry.test/boutique/${service}@${d(char)}`;

/**
 * `v1alpha1ApplicationTree`, `v1alpha1ResourceNode`, `v1alpha1ResourceRef`,
 * `v1alpha1HealthStatus`, `v1alpha1InfoItem` and `v1alpha1ResourceNetworkingInfo` as
 * argoproj/argo-cd `assets/swagger.json` defines them, with one correction the swagger cannot
 * express: the API serves the ResourceRef fields of a node inline (Go `json:",inline"`; the UI
 * reads them so, `ResourceNode extends ResourceRef` in `ui/src/app/shared/models.ts`). No
 * additional properties, so a field the real API does not have fails this test.
 */
const resourceRef = { group: { type: 'string' }, version: { type: 'string' }, kind: { type: 'string' }, namespace: { type: 'string' }, name: { type: 'string' }, uid: { type: 'string' } };
const APPLICATION_TREE_SCHEMA = {
  $id: 'v1alpha1ApplicationTree',
  type: 'object',
  additionalProperties: false,
  properties: {
    nodes: { type: 'array', items: { $ref: '#/$defs/ResourceNode' } },
    orphanedNodes: { type: 'array', items: { $ref: '#/$defs/ResourceNode' } },
    hosts: { type: 'array' },
  },
  $defs: {
    ResourceRef: { type: 'object', additionalProperties: false, properties: resourceRef },
    ResourceNode: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'name', 'uid'],
      properties: {
        ...resourceRef,
        parentRefs: { type: 'array', items: { $ref: '#/$defs/ResourceRef' } },
        info: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { name: { type: 'string' }, value: { type: 'string' } } } },
        networkingInfo: {
          type: 'object',
          additionalProperties: false,
          properties: {
            externalURLs: { type: 'array', items: { type: 'string' } },
            ingress: { type: 'array' },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            targetLabels: { type: 'object', additionalProperties: { type: 'string' } },
            targetRefs: { type: 'array', items: { $ref: '#/$defs/ResourceRef' } },
          },
        },
        images: { type: 'array', items: { type: 'string' } },
        resourceVersion: { type: 'string' },
        createdAt: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T' },
        health: { type: 'object', additionalProperties: false, properties: { status: { type: 'string' }, message: { type: 'string' } } },
      },
    },
  },
};
const validateTree = new Ajv({ allErrors: true }).compile(APPLICATION_TREE_SCHEMA);

let argo: FakeArgoCd;
let client: ArgoCdClient;

beforeAll(async () => {
  argo = await startFakeArgoCd({ token: TOKEN });
  client = new ArgoCdClient(argo.url, TOKEN);
});
afterAll(() => argo.close());

async function rawTree(application: string): Promise<unknown> {
  const response = await fetch(`${argo.url}/api/v1/applications/${application}/resource-tree`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return response.json();
}

const OLD = { frontend: image('frontend', '1'), cartservice: image('cartservice', 'c') };
const NEW = { frontend: image('frontend', '2'), cartservice: image('cartservice', 'c') };
const RELEASE = { frontend: d('2'), cartservice: d('c') };

describe('the stand-in resource tree', () => {
  test("its shape is Argo CD's v1alpha1ApplicationTree, with Pods carrying images and labels", async () => {
    argo.setApplication('shop-staging', { initialImages: OLD, images: NEW, replicas: 2 });
    const tree = await rawTree('shop-staging');
    expect(validateTree(tree)).toBe(true);
    expect(validateTree.errors ?? []).toEqual([]);
    const nodes = (tree as { nodes: Array<Record<string, any>> }).nodes;
    expect(nodes.map((node) => node.kind).sort()).toEqual(['Deployment', 'Deployment', 'Pod', 'Pod', 'Pod', 'Pod', 'ReplicaSet', 'ReplicaSet']);
    const pod = nodes.find((node) => node.kind === 'Pod' && node.networkingInfo.labels.app === 'frontend')!;
    expect(pod.images).toEqual([OLD.frontend]);
    expect(pod.parentRefs[0]).toMatchObject({ kind: 'ReplicaSet', group: 'apps' });
  });

  test('the schema rejects what Argo CD would not send (so the check above can fail)', () => {
    expect(validateTree({ nodes: [{ kind: 'Pod', name: 'p', uid: 'u', image: 'x' }] })).toBe(false);
    expect(validateTree({ nodes: [{ kind: 'Pod', name: 'p', uid: 'u', images: 'x' }] })).toBe(false);
  });
});

describe('liveImagesMatch', () => {
  test('before the sync: the old Pods are stale and the new digest is missing', async () => {
    argo.setApplication('shop-a', { initialImages: OLD, images: NEW });
    const match = liveImagesMatch(await client.resourceTree('shop-a'), RELEASE);
    expect(match.ok).toBe(false);
    expect(match.missing).toEqual([{ service: 'frontend', digest: d('2') }]);
    expect(match.stale).toEqual([{ service: 'frontend', pod: expect.stringMatching(/^frontend-[0-9a-f]{10}-[0-9a-f]{5}$/), images: [OLD.frontend], expected: d('2') }]);
    expect(describeLiveImages(match)).toMatch(/^frontend: no pod runs sha256:222222222222…; frontend: pod frontend-\S+ runs registry\.test\/boutique\/frontend@sha256:111111111111…$/);
  });

  test('during the rolling update: the new Pods run, old ones still drain (stale), nothing missing', async () => {
    argo.setApplication('shop-b', { initialImages: OLD, images: NEW, pollsUntilDone: 2 });
    await client.refresh('shop-b');
    const match = liveImagesMatch(await client.resourceTree('shop-b'), RELEASE);
    expect(match).toMatchObject({ ok: false, missing: [], pods: { frontend: 2, cartservice: 1 } });
    expect(match.stale.map((pod) => pod.images)).toEqual([[OLD.frontend]]);
  });

  test('after the sync: every Pod runs the release', async () => {
    argo.setApplication('shop-c', { initialImages: OLD, images: NEW, pollsUntilDone: 1, replicas: 3 });
    await client.refresh('shop-c');
    await client.status('shop-c');
    const match = liveImagesMatch(await client.resourceTree('shop-c'), RELEASE);
    expect(match).toEqual({ ok: true, missing: [], stale: [], pods: { frontend: 3, cartservice: 3 } });
    expect(describeLiveImages(match)).toBe('every pod runs the release');
  });

  test('a degraded rollout keeps the old Pods next to crash-looping new ones: not ok', async () => {
    argo.setApplication('shop-d', { initialImages: OLD, images: NEW, pollsUntilDone: 1, outcome: 'degraded' });
    await client.refresh('shop-d');
    await client.status('shop-d');
    const match = liveImagesMatch(await client.resourceTree('shop-d'), RELEASE);
    expect(match).toMatchObject({ ok: false, missing: [] });
    expect(match.stale).toHaveLength(1);
  });

  test('"Synced" is not enough: a drifted cluster (someone ran kubectl set image) is caught', async () => {
    argo.setApplication('shop-e', { initialImages: NEW });
    argo.setLiveImages('shop-e', { images: { ...NEW, frontend: image('frontend', '9') } });
    const match = liveImagesMatch(await client.resourceTree('shop-e'), RELEASE);
    expect(match.missing).toEqual([{ service: 'frontend', digest: d('2') }]);
    expect(match.stale[0]!.images).toEqual([image('frontend', '9')]);
  });

  test('a service of the release with no Pods at all is missing; Pods of other services are ignored', async () => {
    argo.setApplication('shop-f', { initialImages: { cartservice: NEW.cartservice, redis: 'redis:7@' + d('7') } });
    const match = liveImagesMatch(await client.resourceTree('shop-f'), RELEASE);
    expect(match).toMatchObject({ ok: false, missing: [{ service: 'frontend', digest: d('2') }], stale: [], pods: { frontend: 0, cartservice: 1 } });
  });

  test('an image pinned by tag only is stale: it proves nothing', () => {
    const tree = { nodes: [{ kind: 'Pod', name: 'frontend-abc-1', images: ['registry.test/boutique/frontend:v2'], networkingInfo: { labels: { app: 'frontend' } } }] };
    expect(liveImagesMatch(tree, { frontend: d('2') })).toMatchObject({ ok: false, stale: [{ pod: 'frontend-abc-1' }] });
  });

  test('a sidecar next to the app container does not hide the match; tag@digest references count', () => {
    const tree = { nodes: [{ kind: 'Pod', name: 'p', images: ['istio/proxyv2:1.24', `registry.test/boutique/frontend:v2@${d('2')}`], networkingInfo: { labels: { 'app.kubernetes.io/component': 'frontend' } } }] };
    expect(liveImagesMatch(tree, { frontend: d('2') }).ok).toBe(true);
  });

  test("a Pod without the chart's labels belongs to its ReplicaSet's Deployment", () => {
    expect(serviceOfPod({ kind: 'Pod', parentRefs: [{ kind: 'ReplicaSet', name: 'checkoutservice-5d8f9c7b6' }] })).toBe('checkoutservice');
    expect(imageDigest(`x/y@${d('a')}`)).toBe(d('a'));
    expect(imageDigest('x/y:1.0')).toBeUndefined();
  });
});

describe('the Argo CD client resource tree', () => {
  test("the swagger's nested resourceRef form reads the same as the inline one", () => {
    expect(applicationTree({ nodes: [{ resourceRef: { kind: 'Pod', name: 'p', namespace: 'n' }, images: ['i'] }], orphanedNodes: null })).toEqual({
      nodes: [{ kind: 'Pod', name: 'p', namespace: 'n', images: ['i'] }],
      orphanedNodes: [],
    });
  });

  test('an unknown application is a permanent error; the token never shows', async () => {
    const error = await client.resourceTree('nope').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArgoCdApiError);
    expect((error as ArgoCdApiError).permanent).toBe(true);
    expect((error as Error).message).toMatch(/failed to read the resource tree of Argo CD application nope: HTTP 404/);
    expect((error as Error).message).not.toContain(TOKEN);
    const unauthorized = await new ArgoCdClient(argo.url, 'wrong-token-123456').resourceTree('shop-a').catch((caught: unknown) => caught);
    expect((unauthorized as ArgoCdApiError).status).toBe(401);
  });

  test('reading the tree does not count as a status poll of the script', async () => {
    argo.setApplication('shop-g', { initialImages: OLD, images: NEW, pollsUntilDone: 1 });
    await client.refresh('shop-g');
    for (let i = 0; i < 3; i++) await client.resourceTree('shop-g');
    expect(liveImagesMatch(await client.resourceTree('shop-g'), RELEASE).ok).toBe(false);
    await client.status('shop-g');
    expect(liveImagesMatch(await client.resourceTree('shop-g'), RELEASE).ok).toBe(true);
  });
});
