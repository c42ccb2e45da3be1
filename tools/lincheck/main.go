// Command lincheck judges a history of document operations against Replicant's consistency
// contract with Porcupine (github.com/anishathalye/porcupine), an independent linearizability
// checker. It reads one JSON history on stdin and prints one JSON verdict on stdout.
//
// The model: each document is a register holding (seq, state). Its operations:
//
//   - get  -> (seq, state): the read observes exactly the register.
//   - post {patch} -> seq: a blind write; state := mergepatch(state, patch) (RFC 7386) and
//     seq := the acknowledged seq, which must be greater than the current seq (seqs increase).
//   - cas {patch, ifSeq} -> seq | conflict: a write with If-Match; applied (as post) only when the
//     register's seq equals ifSeq, else it answers conflict (412) and changes nothing.
//
// An operation whose outcome is unknown (a timeout, a 503 or a reset after the request was sent)
// may or may not have taken effect, at any time after its call: its return time is infinity and
// the model steps to both possibilities; when applied, its seq is unknown until a later operation
// observes it: the register then keeps bounds lo <= seq <= hi (lo is one more than the bound
// before: seqs strictly increase, so two unknown writes make the seq at least the known one + 2;
// a conflict narrows the bounds to exclude ifSeq). A get with an unknown outcome constrains nothing and
// is dropped. Documents are independent registers, so the history is partitioned per document.
//
// Input: {"timeoutMs": 60000, "ops": [{"client": 0, "doc": "d", "op": "get"|"post"|"cas",
// "patch": {...}, "ifSeq": "12", "call": <int>, "return": <int>, "status": "ok"|"conflict"|"unknown",
// "seq": "14", "state": {...}}]}
//
// Output: {"result": "linearizable"|"not_linearizable"|"unknown", "ops": n, "docs": n,
// "illegalDocs": [...]}; exit 0 linearizable, 1 not linearizable, 3 unknown (the check timed out),
// 2 bad input. `-html file` writes Porcupine's visualization.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

type rawOp struct {
	Client int             `json:"client"`
	Doc    string          `json:"doc"`
	Op     string          `json:"op"`
	Patch  json.RawMessage `json:"patch"`
	IfSeq  string          `json:"ifSeq"`
	Call   *int64          `json:"call"`
	Return *int64          `json:"return"`
	Status string          `json:"status"`
	Seq    string          `json:"seq"`
	State  json.RawMessage `json:"state"`
}

type history struct {
	TimeoutMs int64   `json:"timeoutMs"`
	Ops       []rawOp `json:"ops"`
}

// input of one operation (the call)
type input struct {
	doc   string
	op    string // get | post | cas
	patch map[string]interface{}
	ifSeq uint64
}

// output of one operation (the answer)
type output struct {
	status string // ok | conflict | unknown
	seq    uint64
	state  string // canonical JSON (get)
}

// the register: its seq is known to lie in [lo, hi] (exact when lo == hi; hi = noBound when unbounded)
type register struct {
	lo, hi uint64
	state  string // canonical JSON of the document
}

const noBound = math.MaxUint64

func exact(seq uint64, state string) register { return register{lo: seq, hi: seq, state: state} }

func canonical(v interface{}) string {
	b, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		panic(err)
	}
	return string(b)
}

func parseObject(raw json.RawMessage) (map[string]interface{}, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]interface{}
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// mergePatch is RFC 7386 on decoded JSON: objects merge recursively, null deletes, anything else replaces.
func mergePatch(target interface{}, patch interface{}) interface{} {
	p, ok := patch.(map[string]interface{})
	if !ok {
		return patch
	}
	t, ok := target.(map[string]interface{})
	out := map[string]interface{}{}
	if ok {
		for k, v := range t {
			out[k] = v
		}
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = mergePatch(out[k], v)
		}
	}
	return out
}

func apply(state string, patch map[string]interface{}) string {
	m, err := parseObject(json.RawMessage(state))
	if err != nil {
		panic(err)
	}
	return canonical(mergePatch(m, patch))
}

// seqAfter: can a write acknowledged with seq s come after register r (seqs strictly increase)?
func seqAfter(r register, s uint64) bool {
	return s > r.lo // some seq u in [lo, hi] with u < s
}

// seqIs: can register r's seq be s?
func seqIs(r register, s uint64) bool {
	return r.lo <= s && s <= r.hi
}

// applied: the register after a write with an unknown seq (greater than any seq r may hold) applied patch
func applied(r register, patch map[string]interface{}) register {
	return register{lo: r.lo + 1, hi: noBound, state: apply(r.state, patch)}
}

func step(state, in, out interface{}) []interface{} {
	r := state.(register)
	i := in.(input)
	o := out.(output)
	switch i.op {
	case "get":
		if o.state == r.state && seqIs(r, o.seq) {
			return []interface{}{exact(o.seq, r.state)}
		}
		return nil
	case "post":
		switch o.status {
		case "ok":
			if seqAfter(r, o.seq) {
				return []interface{}{exact(o.seq, apply(r.state, i.patch))}
			}
			return nil
		case "unknown":
			return []interface{}{r, applied(r, i.patch)}
		}
	case "cas":
		switch o.status {
		case "ok":
			if seqIs(r, i.ifSeq) && o.seq > i.ifSeq {
				return []interface{}{exact(o.seq, apply(r.state, i.patch))}
			}
			return nil
		case "conflict":
			// the seq is not ifSeq: what is left of [lo, hi] below and above it
			if !seqIs(r, i.ifSeq) {
				return []interface{}{r}
			}
			var next []interface{}
			if i.ifSeq > r.lo {
				next = append(next, register{lo: r.lo, hi: i.ifSeq - 1, state: r.state})
			}
			if i.ifSeq < r.hi {
				next = append(next, register{lo: i.ifSeq + 1, hi: r.hi, state: r.state})
			}
			return next
		case "unknown":
			next := []interface{}{r}
			if seqIs(r, i.ifSeq) {
				next = append(next, applied(exact(i.ifSeq, r.state), i.patch))
			}
			return next
		}
	}
	return nil
}

func describeOp(in, out interface{}) string {
	i := in.(input)
	o := out.(output)
	switch i.op {
	case "get":
		return fmt.Sprintf("get(%s) -> %d %s", i.doc, o.seq, o.state)
	case "post":
		return fmt.Sprintf("post(%s, %s) -> %s %d", i.doc, canonical(i.patch), o.status, o.seq)
	default:
		return fmt.Sprintf("cas(%s, if %d, %s) -> %s %d", i.doc, i.ifSeq, canonical(i.patch), o.status, o.seq)
	}
}

var model = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byDoc := map[string][]porcupine.Operation{}
		var docs []string
		for _, op := range h {
			d := op.Input.(input).doc
			if _, ok := byDoc[d]; !ok {
				docs = append(docs, d)
			}
			byDoc[d] = append(byDoc[d], op)
		}
		sort.Strings(docs)
		out := make([][]porcupine.Operation, 0, len(docs))
		for _, d := range docs {
			out = append(out, byDoc[d])
		}
		return out
	},
	// a never-written document is seq 0, {}
	Init:              func() []interface{} { return []interface{}{exact(0, "{}")} },
	Step:              step,
	DescribeOperation: describeOp,
	DescribeState: func(s interface{}) string {
		r := s.(register)
		switch {
		case r.lo == r.hi:
			return fmt.Sprintf("%d %s", r.lo, r.state)
		case r.hi == noBound:
			return fmt.Sprintf(">=%d %s", r.lo, r.state)
		default:
			return fmt.Sprintf("%d..%d %s", r.lo, r.hi, r.state)
		}
	},
}

func parseSeq(s, what string, i int) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("op %d: %s %q is not a decimal seq", i, what, s)
	}
	return v, nil
}

func convert(h history) ([]porcupine.Operation, error) {
	ops := make([]porcupine.Operation, 0, len(h.Ops))
	for i, r := range h.Ops {
		if r.Doc == "" || r.Call == nil {
			return nil, fmt.Errorf("op %d: doc and call are required", i)
		}
		in := input{doc: r.Doc, op: r.Op}
		out := output{status: r.Status}
		if r.Op != "get" && r.Op != "post" && r.Op != "cas" {
			return nil, fmt.Errorf("op %d: op must be get, post or cas", i)
		}
		if r.Status != "ok" && r.Status != "unknown" && !(r.Status == "conflict" && r.Op == "cas") {
			return nil, fmt.Errorf("op %d: status %q is not valid for %s", i, r.Status, r.Op)
		}
		if r.Op == "get" && r.Status == "unknown" {
			continue // an unanswered read constrains nothing
		}
		if r.Op != "get" {
			p, err := parseObject(r.Patch)
			if err != nil {
				return nil, fmt.Errorf("op %d: patch: %v", i, err)
			}
			in.patch = p
		}
		if r.Op == "cas" {
			v, err := parseSeq(r.IfSeq, "ifSeq", i)
			if err != nil {
				return nil, err
			}
			in.ifSeq = v
		}
		if r.Status == "ok" {
			v, err := parseSeq(r.Seq, "seq", i)
			if err != nil {
				return nil, err
			}
			out.seq = v
		}
		if r.Op == "get" {
			s, err := parseObject(r.State)
			if err != nil {
				return nil, fmt.Errorf("op %d: state: %v", i, err)
			}
			out.state = canonical(s)
		}
		ret := int64(math.MaxInt64) // unknown outcome: may take effect at any time after the call
		if r.Status != "unknown" {
			if r.Return == nil || *r.Return < *r.Call {
				return nil, fmt.Errorf("op %d: a decided op needs return >= call", i)
			}
			ret = *r.Return
		}
		ops = append(ops, porcupine.Operation{ClientId: r.Client, Input: in, Call: *r.Call, Output: out, Return: ret})
	}
	return ops, nil
}

func main() {
	htmlPath := flag.String("html", "", "write Porcupine's visualization of the history here")
	flag.Parse()
	var h history
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(&h); err != nil {
		fmt.Fprintf(os.Stderr, "lincheck: bad input: %v\n", err)
		os.Exit(2)
	}
	ops, err := convert(h)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lincheck: bad input: %v\n", err)
		os.Exit(2)
	}
	timeout := time.Duration(h.TimeoutMs) * time.Millisecond
	m := model.ToModel()
	var res porcupine.CheckResult
	if *htmlPath != "" {
		var info porcupine.LinearizationInfo
		res, info = porcupine.CheckOperationsVerbose(m, ops, timeout)
		if err := porcupine.VisualizePath(m, info, *htmlPath); err != nil {
			fmt.Fprintf(os.Stderr, "lincheck: visualization: %v\n", err)
		}
	} else {
		res = porcupine.CheckOperationsTimeout(m, ops, timeout)
	}
	parts := model.Partition(ops)
	verdict := map[string]interface{}{"ops": len(ops), "docs": len(parts)}
	code := 0
	switch res {
	case porcupine.Ok:
		verdict["result"] = "linearizable"
	case porcupine.Illegal:
		verdict["result"] = "not_linearizable"
		code = 1
		// name the documents whose histories fail on their own
		var bad []string
		for _, p := range parts {
			if porcupine.CheckOperationsTimeout(m, p, timeout) == porcupine.Illegal {
				bad = append(bad, p[0].Input.(input).doc)
			}
		}
		verdict["illegalDocs"] = bad
	default:
		verdict["result"] = "unknown"
		code = 3
	}
	b, _ := json.Marshal(verdict)
	fmt.Println(string(b))
	os.Exit(code)
}
