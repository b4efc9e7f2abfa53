package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests in this file check the jsontext implementation of the raw JSON
// edits against the encoding/json one it replaced (rawjson_reference_test.go):
// on valid JSON, same bytes out, same error, same calls of the caller's
// function; on malformed JSON, which the old walk partly accepted, an error.

// rawJSONEdgeCases are hand-written inputs for the differential tests and
// seeds for FuzzRawJSONEdits.
var rawJSONEdgeCases = []string{
	// empty and odd top-level values
	``, ` `, `{}`, `{ }`, " {\n\t} ", `[]`, `[1]`, `null`, `1`, `"s"`, `true`,
	`{}{}`, `{} {"id":"x"}`, `{"id":"a"}{"id":"b"}`, `1 2`, `01`, `truefalse`, `"a""b"`, `[]{}`,
	`{"a":1} x`, `{"a":1}]`, `}`, `]`, `{]`, `[}`, `{"a":1]`, `[1}`, `[{}}`, `,`, `:`, `{,}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{"a":}`,
	// truncated documents: encoding/json's Token walk ended quietly between tokens
	`{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,`, `{"a":tr`, `{"a":"x`, `[`, `[1,`, `{"meta":{`, `{"meta":{"a":1}`, `{"id":"x"`, `{"a":{"reference":"P/1"`,
	`{"resourceType":"Patient","id":"x","meta":{"versionId":"1"},"subject":{"reference":"Patient/1"}`,
	// references at many depths and of other types
	`{"reference":"Patient/1"}`,
	`{"subject":{"reference":"Patient/1"},"a":[{"b":{"c":[[{"reference":"Encounter/2"}]]}}]}`,
	`{"reference":{"reference":"Patient/1"},"x":{"reference":1},"y":{"reference":null},"z":{"reference":true},"w":{"reference":["Patient/2"]}}`,
	`[{"reference":"Patient/1"},{"reference":"Patient/2"}]`,
	`{"a":[["reference","Patient/1"]],"reference":"Patient/3"}`,
	`{"refer\u0065nce":"Patient/1","reference":"Pat\u0069ent/2","Reference":"Patient/3","reference ":"Patient/4"}`,
	`{"reference":"Patient/\ud83d\ude00","x":{"reference":"\ud800"},"y":{"reference":"\ud800\u0041"},"z":{"reference":"\udc00\ud800\ud800\udc00"}}`,
	"{\"reference\":\"Patient/\xff\xfe\",\"x\":{\"reference\":\"caf\xc3\xa9\"},\"y\":{\"reference\":\"\xe2\x80\xa8\"}}",
	`{"reference":"a<b>&c","x":{"reference":"\u2028\u2029"},"y":{"reference":"tab\tq\"b\\s\/"}}`,
	`{"reference":"Patient/1","reference":"Patient/2"}`,
	`{"contained":[{"resourceType":"Organization","id":"o","partOf":{"reference":"#o"}}],"managingOrganization":{"reference":"#o"}}`,
	// meta
	`{"resourceType":"Patient"}`,
	`{"resourceType":"Patient","meta":{}}`,
	`{"resourceType":"Patient","meta":{ }}`,
	`{"meta":{"versionId":"7","lastUpdated":"2020-01-01T00:00:00Z","profile":["http://x/y"],"source":"s"},"id":"1"}`,
	`{"meta":{"tag":[{"system":"http://a<b>","code":"x&y"}],"security":[ {"code": "R"} ],"extension":[{"url":"u","valueString":"\u2028 \u003c"}]}}`,
	"{\"meta\" : {\n  \"profile\" : [ \"http://x\" ],\n  \"source\":\"a b\"\n}\n}",
	`{"meta":{"z":1,"a":2,"versionId":"old","A":3,"_":4,"é":5,"a<b":6,"\u00e9":7,"e\u0301":8,"k\"q":9}}`,
	"{\"meta\":{\"\xff\":1,\"\xe2\x80\xa8\":2,\"ok\":\"\xff\"}}",
	`{"meta":{"a":1,"a":2,"b":{"c":[1,2,{"d":null}]}}}`,
	`{"meta":{"a":1},"meta":{"b":2,"a":3}}`,
	`{"meta":{"a":1},"x":{"meta":{"b":2}}}`,
	`{"x":{"meta":5},"meta":{"versionId":"1"}}`,
	`{"meta":5}`, `{"meta":null}`, `{"meta":"x"}`, `{"meta":[]}`, `{"meta":{"a":}}`, `{"meta":{"a":1}`, `{"meta":{"a":1`, `{"m\u0065ta":{"a":1}}`,
	`{"meta":{"n":-0.5e+10,"t":true,"f":false,"s":"\/"}}`,
	"{\"meta\":{\"source\":\"a\xe2\x80\xa8b\xe2\x80\xa9\",\"x\":[\"\xe2\x80\xa7\"]}}",
	// id
	`{"id":"old"}`, `{"id":1}`, `{"id":null}`, `{"id":{"a":1}}`, `{"id":["x"]}`,
	`{"id":"a","id":"b"}`, `{"i\u0064":"a"}`, `{"a":{"id":"nested"},"b":[{"id":"x"}]}`,
	`{"resourceType":"Patient","contained":[{"id":"x"}],"id":"top"}`,
	// whitespace, unicode, escapes
	"\n\t\r {\r\n\t\"resourceType\" \t:\n \"Patient\" ,\n\"id\"\r:\t\"x\" , \"meta\" :\n{\n} ,\"subject\":\t{ \"reference\" :\"Patient/1\" } \n}\n\t ",
	`{"text":{"div":"<div>é ü 中文 😀 \u00e9 \ud83d\ude00 \\ \" \b \f \n \r \t \u0000 \u001f</div>"},"reference":"x"}`,
	"{\"a\":\"\x7f\",\"reference\":\"\x7f\"}",
	`{"n":[0,-0,1.5,-1e10,1E+2,12345678901234567890123,0.1e-1],"reference":"x"}`,
	`{"":"empty key","reference":""}`,
	// Bundles
	`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}},{"request":{}},null,{"resource":null},{"resource":{ "a" : [ 1 ] } , "resource2":1}]}`,
	`{"entry":null}`, `{"entry":[]}`, `{"entry":{}}`, `{"entry":"x"}`, `{"entry":[1]}`, `{"entry":[[]]}`, `{"entry":[{"resource":1}]}`,
	`{"Entry":[{"Resource":{"a":1}}]}`, `{"ENTRY":[{"RESOURCE":{"a":1}}]}`, `{"entry":[{"resource":{"a":1},"resource":{"b":2}}]}`,
	`{"entry":[{"resource":{"a":1},"Resource":null}]}`, `{"entry":[{"RESOURCE":[1],"resource":2,"x":{"resource":3}},{"resource":{},"resourcE":"s"}]}`,
	`{"entry":[{"resource":{"a":1}}],"entry":[{}]}`, `{"entry":[{"resource":{"a":1}}],"entry":[null]}`,
	`{"entry":[{"resource":{"a":1}}],"Entry":[{"resource":{"b":2}},{"resource":{"c":3}}]}`,
	`{"entr\u0079":[{"resource":{"a":1}}]}`, `{"entry":[{"re\u017fource":{"a":1}}]}`, "{\"entry\":[{\"re\xc5\xbfource\":{\"a\":1}}]}",
	`{"entry":[{"resource":{"a":1}}]} `, `{"entry":[{"resource":{"a":1}}]} {}`, `{"entry":[{"resource":{"a":1}}]`, `{"entry":[{"resource":{"a":1}}]}x`,
	`[{"entry":[]}]`,
	`{"entry":[{"resource":"\ud800","x":"` + "\xff" + `"}]}`,
	// deep nesting around the encoding/json and jsontext limit of 10000
	`{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `,"id":"x","meta":{}}`,
	`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `,"id":"x","meta":{}}`,
	`{"meta":{"a":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}}`,
	`{"meta":{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}}`,
	`{"meta":{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`,
	`{"entry":[{"resource":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}]}`,
	`{"entry":[{"resource":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}]}`,
	`{"a":` + strings.Repeat(`{"reference":"P/1","b":`, 12000) + `1` + strings.Repeat("}", 12000) + `}`,
	strings.Repeat("[", 20000),
}

// rawJSONTestStrings are replacement values for the edits.
var rawJSONTestStrings = []string{
	"", "Patient/x", "1", "a<b>&c", "\u2028\u2029", "tab\tnl\ncr\rbs\bff\f\x00\x1f\x7f", `q"b\s/`,
	"é中😀", "\xff\xfe", "\xed\xa0\x80", "\ufffd", "caf\xc3",
}

// corpus returns every JSON file under fhir/testdata and the repository's
// testdata, plus the seed inputs stored for the fuzz targets.
func rawJSONCorpus(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	for _, root := range []string{"testdata", filepath.Join("..", "testdata")} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			switch {
			case strings.HasSuffix(path, ".json"):
				out[path] = b
			case strings.Contains(path, filepath.Join("testdata", "fuzz")):
				for i, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, "[]byte("); ok {
						if s, err := strconv.Unquote(strings.TrimSuffix(v, ")")); err == nil {
							out[fmt.Sprintf("%s:%d", path, i)] = []byte(s)
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if len(out) < 200 {
		tb.Fatalf("only %d corpus files found", len(out))
	}
	return out
}

// errString renders an error for comparison.
func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return "error: " + err.Error()
}

// sameResult fails unless the two edits of valid JSON gave the same bytes
// and error, and the bytes are valid JSON.
func sameResult(t *testing.T, what string, raw, got []byte, gotErr error, want []byte, wantErr error) {
	t.Helper()
	if errString(gotErr) != errString(wantErr) || !bytes.Equal(got, want) || (got == nil) != (want == nil) {
		t.Fatalf("%s on %.300q:\n got %.300q, %v\nwant %.300q, %v", what, raw, got, gotErr, want, wantErr)
	}
	if gotErr == nil && !json.Valid(got) {
		t.Fatalf("%s on %.300q = invalid JSON %.300q", what, raw, got)
	}
}

// setIDWant is what SetID must return for valid JSON: setIDReference's
// result, except that a single top-level "id" whose value is an object or
// array is replaced whole (setIDReference replaced just its opening
// delimiter, which broke the JSON).
func setIDWant(raw []byte, id string) ([]byte, error) {
	var ids []int
	_ = scanJSONReference(raw, func(key string, depth int, _ json.Token, start, _ int) error {
		if depth == 1 && key == "id" {
			ids = append(ids, start)
		}
		return nil
	})
	if len(ids) == 1 && (raw[ids[0]] == '{' || raw[ids[0]] == '[') {
		end, err := objectEndReference(raw, ids[0])
		if err != nil {
			return nil, err
		}
		return spliceReference(raw, []span{{ids[0], end, jsonStringReference(id)}}), nil
	}
	return setIDReference(raw, id)
}

// checkMalformed fails unless an edit of malformed JSON failed with an
// error naming the function.
func checkMalformed(t *testing.T, what string, raw, got []byte, err error) {
	t.Helper()
	name, _, _ := strings.Cut(what, "(")
	if err == nil || got != nil || !strings.HasPrefix(err.Error(), "fhir."+name+": ") {
		t.Fatalf("%s on malformed %.300q = %.300q, %v; want a fhir.%s error", what, raw, got, err, name)
	}
}

// checkRawJSONEdits runs every raw JSON edit on raw, with all the
// replacement strings or (quick, for fuzzing) a few. On valid JSON each
// must do exactly what the reference (old) implementation did (with
// setIDWant's fix); on anything else each must fail.
func checkRawJSONEdits(t *testing.T, raw []byte, quick bool) {
	t.Helper()
	orig := bytes.Clone(raw)
	defer func() {
		if !bytes.Equal(raw, orig) {
			t.Fatalf("input modified: %q", raw)
		}
	}()
	valid := json.Valid(raw)

	// RewriteReferencesJSON: same output and the same calls of fn.
	repls := append([]string{"-"}, rawJSONTestStrings...)
	if quick {
		repls = repls[:5]
	}
	for i, repl := range repls {
		var gotSeen, wantSeen []string
		fn := func(seen *[]string) func(string) (string, bool) {
			return func(ref string) (string, bool) {
				*seen = append(*seen, ref)
				switch {
				case i == 0:
					return "", false // look, do not touch
				case i%2 == 0:
					return ref + repl, true
				default:
					return repl, true
				}
			}
		}
		what := fmt.Sprintf("RewriteReferencesJSON(%q)", repl)
		got, gotErr := RewriteReferencesJSON(raw, fn(&gotSeen))
		if !valid {
			checkMalformed(t, what, raw, got, gotErr)
			continue
		}
		want, wantErr := rewriteReferencesJSONReference(raw, fn(&wantSeen))
		sameResult(t, what, raw, got, gotErr, want, wantErr)
		if strings.Join(gotSeen, "\x00|") != strings.Join(wantSeen, "\x00|") || len(gotSeen) != len(wantSeen) {
			t.Fatalf("RewriteReferencesJSON on %.300q called fn with %q, want %q", raw, gotSeen, wantSeen)
		}
	}

	when := time.Date(2024, 2, 29, 13, 14, 15, 987654321, time.FixedZone("X", 3600))
	for _, v := range []string{"1", "a<b>&c\u2028", "\xff\x00"} {
		what := fmt.Sprintf("SetMeta(%q)", v)
		got, gotErr := SetMeta(raw, v, when)
		if !valid {
			checkMalformed(t, what, raw, got, gotErr)
			continue
		}
		want, wantErr := setMetaReference(raw, v, when)
		sameResult(t, what, raw, got, gotErr, want, wantErr)
	}
	for _, id := range rawJSONTestStrings[:len(repls)/2] {
		what := fmt.Sprintf("SetID(%q)", id)
		got, gotErr := SetID(raw, id)
		if !valid {
			checkMalformed(t, what, raw, got, gotErr)
			continue
		}
		want, wantErr := setIDWant(raw, id)
		sameResult(t, what, raw, got, gotErr, want, wantErr)
	}

	// entryResources falls back to json.Unmarshal itself, so it must agree
	// with the reference on any input, valid or not.
	gotRes, gotErr := entryResources(raw)
	wantRes, wantErr := entryResourcesReference(raw)
	if (gotErr == nil) != (wantErr == nil) || len(gotRes) != len(wantRes) {
		t.Fatalf("entryResources on %.300q = %d, %v; want %d, %v", raw, len(gotRes), gotErr, len(wantRes), wantErr)
	}
	for i := range gotRes {
		if !bytes.Equal(gotRes[i], wantRes[i]) || (gotRes[i] == nil) != (wantRes[i] == nil) {
			t.Fatalf("entryResources on %.300q: entry %d = %.200q, want %.200q", raw, i, gotRes[i], wantRes[i])
		}
	}
}

func TestRawJSONEditsMatchReference(t *testing.T) {
	corpus := rawJSONCorpus(t)
	for name, raw := range corpus {
		t.Run(name, func(t *testing.T) {
			checkRawJSONEdits(t, raw, false)
			// Cut the document at a few places: malformed input.
			for i := 1; i < 8; i++ {
				checkRawJSONEdits(t, raw[:len(raw)*i/8], true)
			}
		})
	}
	for i, s := range rawJSONEdgeCases {
		t.Run(fmt.Sprintf("edge%d", i), func(t *testing.T) {
			checkRawJSONEdits(t, []byte(s), false)
		})
	}
}

// TestRawJSONEditsOnMalformed spells out what the edits do with malformed
// input the old encoding/json walk accepted (or half-applied): they fail.
func TestRawJSONEditsOnMalformed(t *testing.T) {
	keep := func(string) (string, bool) { return "", false }
	for _, s := range []string{
		``, ` `, `{`, `{"id":"x"`, `{"meta":{"a":1}`, `{"a":{"reference":"P/1"`, // truncated
		`{}{}`, `{} {"id":"x"}`, `{"id":"a"}{"id":"b"}`, `1 2`, `"a""b"`, // several values
		`{"a":1} x`, `{"a":1}]`, `{"a":1}}`, `{"reference":"P/1"},`, // trailing garbage
		`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, // too deep
	} {
		raw := []byte(s)
		out, err := RewriteReferencesJSON(raw, keep)
		checkMalformed(t, "RewriteReferencesJSON", raw, out, err)
		out, err = SetMeta(raw, "1", time.Unix(0, 0))
		checkMalformed(t, "SetMeta", raw, out, err)
		out, err = SetID(raw, "x")
		checkMalformed(t, "SetID", raw, out, err)
	}
}

// TestSetIDReplacesWholeValue checks the fix of SetID on a top-level "id"
// that is not a string: the whole value is replaced.
func TestSetIDReplacesWholeValue(t *testing.T) {
	for in, want := range map[string]string{
		`{"id":{"a":{"id":1}},"b":2}`:  `{"id":"new","b":2}`,
		`{"a":1, "id" : [ "x", {} ] }`: `{"a":1, "id" : "new" }`,
		`{"id":7}`:                     `{"id":"new"}`,
		`{"id":null,"x":[]}`:           `{"id":"new","x":[]}`,
	} {
		if got, err := SetID([]byte(in), "new"); err != nil || string(got) != want {
			t.Errorf("SetID(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

// TestEntryResourcesFastPath checks that the Bundles in the corpus, and
// the usual shapes of Bundle, do not need the json.Unmarshal fallback.
func TestEntryResourcesFastPath(t *testing.T) {
	inputs := rawJSONCorpus(t)
	for i, s := range []string{
		`{}`, `{"entry":[]}`, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}},{"request":{}},null,{"resource":null}]}`,
		`{"Entry":[{"Resource":{"a":1}}]}`, `{"meta":{"tag":[{"code":"x"}]},"entry":[{"fullUrl":"u","resource":{"a":[1]},"search":{"mode":"match"}}]}`,
	} {
		inputs[fmt.Sprintf("bundle%d", i)] = []byte(s)
	}
	n := 0
	for name, raw := range inputs {
		if !strings.Contains(name, "Bundle") && !strings.Contains(name, "bundle") || !json.Valid(raw) {
			continue
		}
		n++
		if _, ok := entryResourcesFast(raw); !ok {
			t.Errorf("%s: entryResourcesFast fell back", name)
		}
	}
	if n < 10 {
		t.Fatalf("only %d Bundles checked", n)
	}
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	strs := append([]string{}, rawJSONTestStrings...)
	for c := 0; c < 256; c++ {
		strs = append(strs, string(rune(c)), "a"+string([]byte{byte(c)})+"b")
	}
	strs = append(strs, "\u2027\u2028\u2029\u202a", "\xe2\x80", "\xe2\x80\xa8\xe2", "\U0010ffff", "\xf4\x90\x80\x80", "\xc0\xaf")
	for _, s := range strs {
		if got, want := jsonString(s), jsonStringReference(s); !bytes.Equal(got, want) {
			t.Errorf("jsonString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestEntryResourcesAreCopies(t *testing.T) {
	raw := []byte(`{"entry":[{"resource":{"a":1}},{"resource":{"b":2}}]}`)
	res, err := entryResources(raw)
	if err != nil || len(res) != 2 {
		t.Fatalf("entryResources = %q, %v", res, err)
	}
	_ = append(res[0], "XXXX"...)
	if string(res[1]) != `{"b":2}` {
		t.Fatalf("append to entry 0 overwrote entry 1: %q", res[1])
	}
	res[1][0] = '['
	if string(raw) != `{"entry":[{"resource":{"a":1}},{"resource":{"b":2}}]}` {
		t.Fatalf("entries share memory with the Bundle: %s", raw)
	}
}

// FuzzRawJSONEdits checks the edits on arbitrary input: on valid JSON they
// must match the reference, on anything else fail, and never panic.
func FuzzRawJSONEdits(f *testing.F) {
	for _, s := range rawJSONEdgeCases {
		if len(s) < 1000 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkRawJSONEdits(t, raw, true)
	})
}
