package gen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/daemongen/daemongen/gen/fleet"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/schema"
	"github.com/daemongen/daemongen/internal/testcases"
)

// sdkWireBody is fleet.SDKWireBody, failing the test when the SDK rejects data.
func sdkWireBody(t testing.TB, data []byte) []byte {
	t.Helper()
	body, err := fleet.SDKWireBody(data)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestSDKRoundTrip proves that every generated file is register-ready: the SDK takes it
// with unknown fields disallowed, validates it, and sends exactly what the file says.
func TestSDKRoundTrip(t *testing.T) {
	for _, file := range testcases.OutputFiles(t) {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			body := sdkWireBody(t, data)
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("the wire body is not JSON: %v\n%s", err, body)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the SDK sends something else than the file (-file +wire):\n%s", diff)
			}
		})
	}
}

// TestSDKRoundTripCatchesDrift makes sure the round trip can fail: a field the SDK does
// not know, and a value it serializes differently (container cpu 0 is not sent).
func TestSDKRoundTripCatchesDrift(t *testing.T) {
	var in ecs.RegisterDaemonTaskDefinitionInput
	dec := json.NewDecoder(strings.NewReader(`{"family":"x","networkMode":"awsvpc","containerDefinitions":[]}`))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err == nil {
		t.Error("an unknown field decoded without error")
	}
	body := sdkWireBody(t, []byte(`{"family":"x","containerDefinitions":[{"name":"a","image":"i","cpu":0}]}`))
	if bytes.Contains(body, []byte(`"cpu"`)) {
		t.Errorf("expected the SDK to drop cpu 0, got %s", body)
	}
}

// wireName is the JSON name of an SDK struct field: the Go name with a lower-case first letter.
func wireName(goName string) string {
	return strings.ToLower(goName[:1]) + goName[1:]
}

// sdkMaps collects the members that are maps during sdkFields.
var sdkMaps map[string]bool

// sdkFields walks the SDK input type and lists every member's abstract path.
func sdkFields(typ reflect.Type, path string, out map[string]bool) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		if typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct {
			path += ".*"
		}
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		child := lang.JoinAbstract(path, wireName(f.Name))
		out[child] = true
		if f.Type.Kind() == reflect.Map {
			sdkMaps[child] = true
		}
		sdkFields(f.Type, child, out)
	}
}

// schemaFields lists every supported field of the schema index by abstract path.
func schemaFields() map[string]bool {
	out := map[string]bool{}
	for path, sn := range schema.Index() {
		if sn.IsMap {
			continue // free-form options: the SDK has a map[string]string
		}
		for name, f := range sn.Fields {
			if f.Unsupported == "" {
				out[lang.JoinAbstract(path, name)] = true
			}
		}
	}
	return out
}

// TestSchemaMatchesSDK fails when the SDK has a member the schema lacks (the SDK grew) or
// the schema has a field the SDK lacks (the schema invented one).
func TestSchemaMatchesSDK(t *testing.T) {
	sdk := map[string]bool{}
	sdkMaps = map[string]bool{}
	sdkFields(reflect.TypeFor[ecs.RegisterDaemonTaskDefinitionInput](), "", sdk)
	schema := schemaFields()
	for p := range sdk {
		if !schema[p] {
			t.Errorf("the SDK has %s, the schema does not", p)
		}
	}
	for p := range schema {
		parent := p[:max(strings.LastIndex(p, "."), 0)]
		if sdkMaps[parent] {
			continue // a documented key of a map[string]string
		}
		if !sdk[p] {
			t.Errorf("the schema has %s, the SDK does not", p)
		}
	}
	if len(sdk) < 80 {
		t.Errorf("walked only %d SDK members; the walk is broken", len(sdk))
	}
}

// TestSchemaSourceIsTheSDKOfGoMod checks that the version daemongen reports for its schema
// is the SDK module that go.mod requires, the one the drift test compares the schema with.
func TestSchemaSourceIsTheSDKOfGoMod(t *testing.T) {
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(github\.com/aws/aws-sdk-go-v2/service/ecs) (v\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod does not require the SDK")
	}
	if got := string(m[1]) + " " + string(m[2]); got != schema.Source {
		t.Errorf("SchemaSource = %q, but go.mod requires %q", schema.Source, got)
	}
}
