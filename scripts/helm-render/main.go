// Command helm-render renders a Helm chart directory to Kubernetes manifests
// without helm, without a cluster and without network access.
//
// helm cannot be installed on the build machines, so CI renders our charts
// with the same template engine helm uses: Go's text/template plus sprig v3.
// It builds offline in GOPATH mode against Debian's packages:
//
//	apt-get install -y golang-go golang-github-masterminds-sprig-dev
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o helm-render ./scripts/helm-render
//
// Usage:
//
//	helm-render --chart charts/online-boutique [-f values-poc.yaml]... [--set a.b=c]...
//	            [--release-name NAME] [--namespace NS] [--api-versions group/version]...
//
// Supported helm features (keep the charts within these):
//   - Chart.yaml: apiVersion v2 charts without dependencies (no subcharts, no
//     library charts). .Chart exposes Name, Version, AppVersion, Description,
//     Type, APIVersion, KubeVersion.
//   - Values: values.yaml, then every -f file in order, then every --set, deep
//     merged like helm (maps merge, everything else replaces, a null in an
//     override deletes the key). Numbers become float64 as in helm (helm reads
//     YAML through JSON). --set takes dotted keys only (no list indexes, no
//     escaped dots); its value is parsed as a YAML scalar.
//   - Objects: .Values, .Chart, .Release (Name, Namespace, Service, IsInstall,
//     IsUpgrade, Revision), .Template (Name, BasePath), .Capabilities
//     (KubeVersion.Version/Major/Minor, APIVersions.Has).
//   - Functions: all of sprig v3 except env/expandenv (helm drops them too),
//     plus helm's include, tpl, required, toYaml, fromYaml, fromYamlArray,
//     toJson, fromJson, fromJsonArray and lookup (always an empty map, as in
//     `helm template`).
//   - Templates: every file under templates/ is parsed (helpers in files that
//     start with "_" are parsed but not rendered; NOTES.txt is skipped).
//     Missing keys render as empty, like helm ("<no value>" is removed).
//     Output is "---\n# Source: <chart>/templates/<file>\n<manifest>" per
//     non-empty YAML document, like `helm template`.
//
// Not supported: .Files, subcharts and dependencies, hooks (rendered like any
// other manifest), values.schema.json validation (the jest tests validate the
// values with ajv instead), post-renderers, --set-string/--set-file/list
// indexes.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	yaml2 "gopkg.in/yaml.v2"
	yaml3 "gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// APIVersions mirrors helm's .Capabilities.APIVersions.
type APIVersions []string

// Has reports whether a group/version (or group/version/Kind) is available.
func (a APIVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type kubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k kubeVersion) String() string { return k.Version }

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions APIVersions
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fset := flag.NewFlagSet("helm-render", flag.ContinueOnError)
	chartDir := fset.String("chart", "", "chart directory (required)")
	releaseName := fset.String("release-name", "release-name", "release name")
	namespace := fset.String("namespace", "default", "release namespace")
	var valueFiles, sets, apiVersions multiFlag
	fset.Var(&valueFiles, "f", "values file to merge over values.yaml (repeatable)")
	fset.Var(&valueFiles, "values", "same as -f")
	fset.Var(&sets, "set", "key.path=value override (repeatable)")
	fset.Var(&apiVersions, "api-versions", "extra API version for .Capabilities.APIVersions (repeatable)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *chartDir == "" {
		return errors.New("--chart is required")
	}

	chartMeta, err := readYAMLMap(filepath.Join(*chartDir, "Chart.yaml"))
	if err != nil {
		return fmt.Errorf("reading Chart.yaml: %w", err)
	}
	name, _ := chartMeta["name"].(string)
	if name == "" {
		return errors.New("Chart.yaml: name is required")
	}
	if v, _ := chartMeta["version"].(string); v == "" {
		return errors.New("Chart.yaml: version is required (as a string)")
	}
	if deps, ok := chartMeta["dependencies"]; ok && deps != nil {
		return errors.New("Chart.yaml: dependencies are not supported by helm-render")
	}
	chart := map[string]interface{}{
		"Name":        name,
		"Version":     chartMeta["version"],
		"AppVersion":  strOr(chartMeta["appVersion"]),
		"Description": strOr(chartMeta["description"]),
		"Type":        strOr(chartMeta["type"]),
		"APIVersion":  strOr(chartMeta["apiVersion"]),
		"KubeVersion": strOr(chartMeta["kubeVersion"]),
	}

	values := map[string]interface{}{}
	if _, err := os.Stat(filepath.Join(*chartDir, "values.yaml")); err == nil {
		if values, err = readYAMLMap(filepath.Join(*chartDir, "values.yaml")); err != nil {
			return fmt.Errorf("reading values.yaml: %w", err)
		}
	}
	for _, f := range valueFiles {
		over, err := readYAMLMap(f)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		values = mergeValues(values, over)
	}
	for _, s := range sets {
		over, err := parseSet(s)
		if err != nil {
			return err
		}
		values = mergeValues(values, over)
	}

	top := map[string]interface{}{
		"Values": values,
		"Chart":  chart,
		"Release": map[string]interface{}{
			"Name":      *releaseName,
			"Namespace": *namespace,
			"Service":   "Helm",
			"IsInstall": true,
			"IsUpgrade": false,
			"Revision":  1,
		},
		"Capabilities": capabilities{
			KubeVersion: kubeVersion{Version: "v1.35.0", Major: "1", Minor: "35"},
			APIVersions: append(APIVersions{"v1", "apps/v1", "autoscaling/v2", "policy/v1", "batch/v1", "networking.k8s.io/v1"}, apiVersions...),
		},
	}

	out, err := render(*chartDir, name, top)
	if err != nil {
		return err
	}
	_, err = os.Stdout.WriteString(out)
	return err
}

func strOr(v interface{}) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// render parses every template of the chart into one set (so that helpers
// are shared, as in helm) and executes the non-helper files in name order.
func render(chartDir, chartName string, top map[string]interface{}) (string, error) {
	tplDir := filepath.Join(chartDir, "templates")
	var files []string
	err := filepath.WalkDir(tplDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading templates: %w", err)
	}
	sort.Strings(files)

	root := template.New("gotpl").Option("missingkey=zero")
	funcs := funcMap(root)
	root.Funcs(funcs)
	var renderable []string
	for _, f := range files {
		rel, _ := filepath.Rel(chartDir, f)
		name := chartName + "/" + filepath.ToSlash(rel)
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if _, err := root.New(name).Parse(string(data)); err != nil {
			return "", fmt.Errorf("parse error in %s: %w", name, err)
		}
		base := filepath.Base(f)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		renderable = append(renderable, name)
	}

	var out strings.Builder
	for _, name := range renderable {
		vals := make(map[string]interface{}, len(top)+1)
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, vals); err != nil {
			return "", fmt.Errorf("rendering %s: %w", name, err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		// Like `helm template`: one "# Source:" header per YAML document,
		// documents that hold only whitespace or comments are dropped.
		for _, doc := range splitDocuments(text) {
			out.WriteString("---\n# Source: " + name + "\n")
			out.WriteString(doc)
			out.WriteString("\n")
		}
	}
	return out.String(), nil
}

// splitDocuments splits rendered text on "---" separator lines and returns
// the documents that hold more than whitespace and comments.
func splitDocuments(text string) []string {
	var docs []string
	var cur []string
	flush := func() {
		body := strings.Trim(strings.Join(cur, "\n"), "\n")
		cur = nil
		for _, line := range strings.Split(body, "\n") {
			t := strings.TrimSpace(line)
			if t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, strings.TrimRight(body, " \n"))
				return
			}
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimRight(line, " \t") == "---" {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return docs
}

// funcMap returns sprig's functions plus the helm-specific ones that need
// the template set (include, tpl).
func funcMap(root *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")

	includeDepth := map[string]int{}
	f["include"] = func(name string, data interface{}) (string, error) {
		includeDepth[name]++
		defer func() { includeDepth[name]-- }()
		if includeDepth[name] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	f["toYaml"] = toYAML
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		var v interface{}
		if err := yaml3.Unmarshal([]byte(s), &v); err != nil {
			m["Error"] = err.Error()
			return m
		}
		if mm, ok := normalize(v).(map[string]interface{}); ok {
			return mm
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		var v interface{}
		if err := yaml3.Unmarshal([]byte(s), &v); err != nil {
			return []interface{}{err.Error()}
		}
		if a, ok := normalize(v).([]interface{}); ok {
			return a
		}
		return []interface{}{}
	}
	f["toJson"] = func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []interface{} {
		a := []interface{}{}
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			return []interface{}{err.Error()}
		}
		return a
	}
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	return f
}

// toYAML matches helm: marshal through JSON (so keys are sorted and numbers
// print as JSON does), emit YAML, drop the trailing newline.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var generic interface{}
	if err := yaml2.Unmarshal(j, &generic); err != nil {
		return ""
	}
	out, err := yaml2.Marshal(generic)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func readYAMLMap(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v interface{}
	if err := yaml3.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := normalize(v).(map[string]interface{})
	if !ok {
		return nil, errors.New("top level is not a map")
	}
	return m, nil
}

// normalize turns decoded YAML into JSON-like values, as helm sees them:
// string-keyed maps, []interface{}, float64 numbers, strings, bools, nil.
func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = normalize(x)
		}
		return m
	case []interface{}:
		for i, x := range t {
			t[i] = normalize(x)
		}
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case uint64:
		return float64(t)
	default:
		return v
	}
}

// mergeValues deep-merges over into base like helm's coalescing: maps merge
// key by key, any other value replaces, and null deletes the key.
func mergeValues(base, over map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == nil {
			delete(out, k)
			continue
		}
		if om, ok := v.(map[string]interface{}); ok {
			if bm, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeValues(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func parseSet(s string) (map[string]interface{}, error) {
	eq := strings.Index(s, "=")
	if eq <= 0 {
		return nil, fmt.Errorf("--set %q: expected key.path=value", s)
	}
	keys := strings.Split(s[:eq], ".")
	var val interface{}
	raw := s[eq+1:]
	if raw == "" {
		val = ""
	} else if err := yaml3.Unmarshal([]byte(raw), &val); err != nil {
		val = raw
	}
	val = normalize(val)
	if val == nil && raw != "null" {
		val = ""
	}
	m := map[string]interface{}{}
	cur := m
	for i, k := range keys {
		if k == "" {
			return nil, fmt.Errorf("--set %q: empty key segment", s)
		}
		if i == len(keys)-1 {
			cur[k] = val
		} else {
			next := map[string]interface{}{}
			cur[k] = next
			cur = next
		}
	}
	return m, nil
}
