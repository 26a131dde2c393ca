package device

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// Dispatcher constants of libxdp's protocol (version 2).
const (
	// MaxPrograms is the number of stub functions the dispatcher has (MAX_DISPATCHER_ACTIONS).
	MaxPrograms = 10
	// DefaultPriority is the run priority of a program whose BTF says none (XDP_DEFAULT_RUN_PRIO).
	DefaultPriority = 50
	// DefaultActions continue the chain on XDP_PASS only (XDP_DEFAULT_CHAIN_CALL_ACTIONS).
	DefaultActions = Actions(1 << Pass)
	// ContinueRetval is what an empty stub returns (XDP_DISPATCHER_RETVAL): bit 31 is set in every
	// slot's chain-call bitmap, so that a slot whose program went away lets the chain go on.
	ContinueRetval = 31
	// Magic and Version are the first two bytes of the dispatcher's configuration.
	Magic   = 236 // 'X' + 'D' + 'P'
	Version = 2
	// RunConfigSection is the BTF data section holding programs' run configurations.
	RunConfigSection = ".xdp_run_config"
)

// RunConfig is what libxdp reads from a program's BTF: when it runs, and after which actions the
// dispatcher goes on to the next program.
type RunConfig struct {
	Priority uint32
	Actions  Actions
}

// DefaultRunConfig is the run configuration of a program whose BTF says nothing.
func DefaultRunConfig() RunConfig {
	return RunConfig{Priority: DefaultPriority, Actions: DefaultActions}
}

// RunConfigError says why a program's run configuration cannot be read; libxdp then refuses to
// open the program. Errno is the error libxdp returns (EINVAL, ENOTSUP or EOPNOTSUPP).
type RunConfigError struct {
	Struct string
	Errno  string
	Reason string
}

func (e *RunConfigError) Error() string {
	return fmt.Sprintf("run config %s in %s: %s (libxdp refuses the program with %s)", e.Struct, RunConfigSection, e.Reason, e.Errno)
}

// ParseRunConfig reads the run configuration of the program whose function is funcName from the
// object's BTF, as libxdp does when it opens the program: the struct "_<funcName>" in the
// DATASEC ".xdp_run_config". Without BTF, without the section or without the struct, it returns
// the defaults and found false.
func ParseRunConfig(spec *btf.Spec, funcName string) (cfg RunConfig, found bool, err error) {
	cfg = DefaultRunConfig()
	if spec == nil {
		return cfg, false, nil
	}
	name := "_" + funcName
	var sec *btf.Datasec
	for typ, err := range spec.All() {
		if err != nil {
			return cfg, false, err
		}
		if ds, ok := typ.(*btf.Datasec); ok && ds.Name == RunConfigSection {
			sec = ds
			break
		}
	}
	if sec == nil {
		return cfg, false, nil
	}
	var def *btf.Struct
	for _, vs := range sec.Vars {
		if vs.Type.TypeName() != name {
			continue
		}
		v, ok := vs.Type.(*btf.Var)
		if !ok {
			return cfg, false, &RunConfigError{name, "EINVAL", fmt.Sprintf("unexpected kind %T", vs.Type)}
		}
		if v.Linkage != btf.GlobalVar && v.Linkage != btf.StaticVar {
			return cfg, false, &RunConfigError{name, "EOPNOTSUPP", fmt.Sprintf("unsupported linkage %s", v.Linkage)}
		}
		s, ok := btf.UnderlyingType(v.Type).(*btf.Struct)
		if !ok {
			return cfg, false, &RunConfigError{name, "EINVAL", fmt.Sprintf("%s is not a struct", v.Type)}
		}
		def = s
		break
	}
	if def == nil {
		return cfg, false, nil
	}
	for i, m := range def.Members {
		if m.Name == "" {
			return cfg, false, &RunConfigError{name, "EINVAL", fmt.Sprintf("member %d has no name", i)}
		}
		a, err := ParseAction(m.Name)
		isAction := err == nil && m.Name == a.String()
		if m.Name != "priority" && !isAction {
			return cfg, false, &RunConfigError{name, "ENOTSUP", fmt.Sprintf("member %s is neither priority nor an XDP action", m.Name)}
		}
		n, err := memberValue(m)
		if err != nil {
			return cfg, false, &RunConfigError{name, "EINVAL", fmt.Sprintf("member %s: %v", m.Name, err)}
		}
		if !isAction {
			cfg.Priority = n
			continue
		}
		if n != 0 {
			cfg.Actions |= 1 << a
		} else {
			cfg.Actions &^= 1 << a
		}
	}
	return cfg, true, nil
}

// memberValue reads the value __uint(name, value) encodes: the element count of the array the
// member points to.
func memberValue(m btf.Member) (uint32, error) {
	ptr, ok := btf.UnderlyingType(m.Type).(*btf.Pointer)
	if !ok {
		return 0, errors.New("expected a pointer (declare it with __uint)")
	}
	arr, ok := ptr.Target.(*btf.Array)
	if !ok {
		return 0, errors.New("expected a pointer to an array (declare it with __uint)")
	}
	return arr.Nelems, nil
}
