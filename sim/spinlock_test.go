package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/sim"
)

// lockedXDP loads an XDP program that looks up the one value of an array map whose value is
// { struct bpf_spin_lock lock; __u32 n; } into r7 and then runs body; it returns XDP_PASS.
func lockedXDP(t *testing.T, body ...asm.Instruction) (*sim.XDP, *sim.Object) {
	t.Helper()
	return loadLocked(t, sim.LoadOptions{}, body...)
}

// unverifiedLockedXDP is lockedXDP for a body that breaks the verifier's locking rules: it checks
// that the verifier refuses it with want, and loads it without the verifier, to show what the
// run does when one gets past.
func unverifiedLockedXDP(t *testing.T, want string, body ...asm.Instruction) (*sim.XDP, *sim.Object) {
	t.Helper()
	o, err := loadLockedObject(sim.LoadOptions{}, body...)
	if err == nil {
		_, err = o.FindProgram("p")
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("the verifier: %v, want a refusal saying %q", err, want)
	}
	return loadLocked(t, sim.LoadOptions{NoVerify: true}, body...)
}

func loadLocked(t *testing.T, opts sim.LoadOptions, body ...asm.Instruction) (*sim.XDP, *sim.Object) {
	t.Helper()
	o, err := loadLockedObject(opts, body...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram("p")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	return x, o
}

func loadLockedObject(opts sim.LoadOptions, body ...asm.Instruction) (*sim.Object, error) {
	u32 := &btf.Int{Name: "__u32", Size: 4}
	value := &btf.Struct{Name: "locked", Size: 8, Members: []btf.Member{
		{Name: "lock", Type: &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: u32}}}},
		{Name: "n", Type: u32, Offset: 32},
	}}
	insns := asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0).WithReference("locks"),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R7, asm.R0),
	}
	insns = append(insns, body...)
	insns = append(insns, asm.Mov.Imm(asm.R0, 2).WithSymbol("out"), asm.Return())
	spec := &ebpf.CollectionSpec{
		Maps:     map[string]*ebpf.MapSpec{"locks": {Name: "locks", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Key: u32, Value: value}},
		Programs: map[string]*ebpf.ProgramSpec{"p": {Name: "p", Type: ebpf.XDP, License: "GPL", Instructions: insns}},
	}
	return sim.LoadSpec("locks.o", spec, opts)
}

var (
	lockR7   = []asm.Instruction{asm.Mov.Reg(asm.R1, asm.R7), asm.FnSpinLock.Call()}
	unlockR7 = []asm.Instruction{asm.Mov.Reg(asm.R1, asm.R7), asm.FnSpinUnlock.Call()}
	countR7  = []asm.Instruction{asm.LoadMem(asm.R1, asm.R7, 4, asm.Word), asm.Add.Imm(asm.R1, 1), asm.StoreMem(asm.R7, 4, asm.R1, asm.Word)}
)

func cat(parts ...[]asm.Instruction) []asm.Instruction {
	var out []asm.Instruction
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestSpinLocksAreLocks: bpf_spin_lock takes a real lock, so runs exclude each other; the rules the
// kernel's verifier enforces make a program that breaks them fault, and a run never leaves the lock
// held behind it.
func TestSpinLocksAreLocks(t *testing.T) {
	pkt := make([]byte, 60)
	runWithin := func(t *testing.T, x *sim.XDP) sim.Outcome {
		t.Helper()
		done := make(chan sim.Outcome, 1)
		go func() { done <- x.Run(pkt, nil, sim.Conditions{}) }()
		select {
		case o := <-done:
			return o
		case <-time.After(10 * time.Second):
			t.Fatal("the run did not end: it waits for a lock no one releases")
		}
		return sim.Outcome{}
	}
	t.Run("a program that takes and releases the lock runs packet after packet", func(t *testing.T) {
		x, _ := lockedXDP(t, cat(lockR7, countR7, unlockR7)...)
		for i := range 3 {
			if o := runWithin(t, x); o.Err != "" || o.Ret != 2 {
				t.Fatalf("packet %d: %+v", i+1, o)
			}
		}
	})
	t.Run("taking a second lock faults, and the next packet can take the first again", func(t *testing.T) {
		x, _ := unverifiedLockedXDP(t, "function calls are not allowed while holding a lock", cat(lockR7, lockR7)...)
		for i := range 2 {
			o := runWithin(t, x)
			if o.Fault == nil || !strings.Contains(o.Err, "one at a time") {
				t.Fatalf("packet %d: outcome %+v, want a fault saying a program holds one lock at a time", i+1, o)
			}
		}
	})
	t.Run("releasing a lock the program does not hold faults", func(t *testing.T) {
		x, _ := unverifiedLockedXDP(t, "bpf_spin_unlock without taking a lock", unlockR7...)
		if o := runWithin(t, x); o.Fault == nil || !strings.Contains(o.Err, "does not hold") {
			t.Fatalf("outcome %+v, want a fault", o)
		}
	})
	t.Run("a run that faults holding the lock releases it", func(t *testing.T) {
		x, o := unverifiedLockedXDP(t, "R8 !read_ok", cat(lockR7, []asm.Instruction{asm.LoadMem(asm.R0, asm.R8, 0, asm.Word)})...)
		if out := runWithin(t, x); out.Fault == nil {
			t.Fatalf("outcome %+v, want a fault reading through r8", out)
		}
		v, err := o.Maps["locks"].Lookup(make([]byte, 4), 0)
		if err != nil {
			t.Fatal(err)
		}
		if v[0] != 0 {
			t.Errorf("the lock word is %x after the run, want it released", v[:4])
		}
	})
}

// TestSpinLockedCountsAreExactAcrossGoroutines runs the same locked read-modify-write on two
// forks of one XDP at once: every increment survives.
func TestSpinLockedCountsAreExactAcrossGoroutines(t *testing.T) {
	x, o := lockedXDP(t, cat(lockR7, countR7, unlockR7)...)
	y, err := x.Fork()
	if err != nil {
		t.Fatal(err)
	}
	const runs = 5000
	pkt := make([]byte, 60)
	done := make(chan struct{})
	for _, z := range []*sim.XDP{x, y} {
		go func() {
			defer func() { done <- struct{}{} }()
			for range runs {
				if out := z.Run(pkt, nil, sim.Conditions{}); out.Err != "" {
					t.Error(out.Err)
					return
				}
			}
		}()
	}
	<-done
	<-done
	v, err := o.Maps["locks"].Lookup(make([]byte, 4), 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := uint32(v[4]) | uint32(v[5])<<8 | uint32(v[6])<<16 | uint32(v[7])<<24; n != 2*runs {
		t.Errorf("count %d, want %d", n, 2*runs)
	}
}

// TestSpinLockAsAGlobalVariable: a struct bpf_spin_lock may be a global variable of its own data
// section ("static struct bpf_spin_lock lock SEC(".data.A")"), whose map value is the section's
// BTF (a DATASEC of its variables); the kernel finds the lock there, so a program may take it, and
// then refuses a call to a global function while it is held (as test_spin_lock_fail.c's
// lock_global_subprog_call1 shows on Linux 6.18, blaming the call).
func TestSpinLockAsAGlobalVariable(t *testing.T) {
	u32 := &btf.Int{Name: "__u32", Size: 4}
	lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: u32}}}
	sec := &btf.Datasec{Name: ".data.A", Size: 4, Vars: []btf.VarSecinfo{
		{Type: &btf.Var{Name: "lockA", Type: lock, Linkage: btf.StaticVar}, Offset: 0, Size: 4},
	}}
	intT := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	load := func(between ...asm.Instruction) error {
		insns := asm.Instructions{
			btf.WithFuncMetadata(asm.LoadMapValue(asm.R1, 0, 0).WithReference(".data.A"),
				&btf.Func{Name: "p", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{Return: intT}}),
			asm.FnSpinLock.Call(),
		}
		insns = append(insns, between...)
		insns = append(insns,
			asm.LoadMapValue(asm.R1, 0, 0).WithReference(".data.A"),
			asm.FnSpinUnlock.Call(),
			asm.Mov.Imm(asm.R0, 2),
			asm.Return(),
			btf.WithFuncMetadata(asm.Mov.Imm(asm.R0, 0).WithSymbol("g"),
				&btf.Func{Name: "g", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{Return: intT}}),
			asm.Return(),
		)
		spec := &ebpf.CollectionSpec{
			Maps: map[string]*ebpf.MapSpec{".data.A": {Name: ".data.A", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1,
				Key: &btf.Void{}, Value: sec, Contents: []ebpf.MapKV{{Key: uint32(0), Value: make([]byte, 4)}}}},
			Programs: map[string]*ebpf.ProgramSpec{"p": {Name: "p", Type: ebpf.XDP, License: "GPL", Instructions: insns}},
		}
		o, err := sim.LoadSpec("lock_global.o", spec, sim.LoadOptions{})
		if err == nil {
			_, err = o.FindProgram("p")
		}
		return err
	}
	t.Run("the lock can be taken and released", func(t *testing.T) {
		if err := load(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a global function call while it is held is refused at the call", func(t *testing.T) {
		err := load(asm.Call.Label("g"))
		want := "rejects instruction 3: global function calls are not allowed while holding a lock"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want a refusal saying %q", err, want)
		}
	})
}
