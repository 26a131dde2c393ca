package kernel

import (
	"regexp"
	"strconv"
	"strings"
)

// VerifyOptions control [Verify].
type VerifyOptions struct {
	// Program names the program to verify by its function name (the key of the object's
	// CollectionSpec.Programs). Empty means the object's only program.
	Program string

	// LogLevel is the verifier log level: 1 (the path to the error and the final figures) or 2
	// (every instruction of every path with the register state). 0 means 1.
	LogLevel int

	// LogSize is the size of the first log buffer in bytes; 0 means 1 MiB. The buffer grows
	// (up to the kernel's 1 GiB limit) until the whole log fits, so this only saves retries.
	LogSize uint32

	// DevBound loads the program bound to a network device (BPF_F_XDP_DEV_BOUND_ONLY), as
	// programs that call the XDP RX-metadata kfuncs must be: one end of a veth pair made in a
	// private network namespace for the load and gone afterwards. Such a program cannot be
	// test-run.
	DevBound bool

	// TestRun runs an accepted program once through BPF_PROG_TEST_RUN on a 64-byte zeroed
	// Ethernet frame (see [Verdict.Run]), to show that what the verifier accepted also runs.
	TestRun bool
}

// Verdict is what the kernel's verifier said about one program.
type Verdict struct {
	// Program is the function name of the program.
	Program string

	// Accepted says the kernel loaded the program.
	Accepted bool

	// Errno names the error BPF_PROG_LOAD returned ("EACCES", "EINVAL", "E2BIG", ...), empty
	// when accepted.
	Errno string

	// Insn is the instruction the log blames, in the kernel's numbering (an lddw takes two
	// slots), or -1; see [BlamedInsn] for the rule. Always -1 when accepted.
	Insn int

	// Message is the error: the line(s) the verifier printed after the last instruction line
	// (see [ErrorMessage]), joined with "\n". Empty when accepted.
	Message string

	// Stats are the figures of the log's final "processed N insns ..." line.
	Stats Stats

	// Log is the whole verifier log as the kernel wrote it.
	Log string

	// Run is the result of the test run that VerifyOptions.TestRun asked for; nil when none was
	// made (not asked, or the program was rejected).
	Run *TestRun
}

// Stats are the figures of the verifier's final log line "processed N insns (limit 1000000)
// max_states_per_insn M total_states T peak_states P mark_read R". Found is false when the log
// has no such line (the kernel refused the program before or outside its analysis); the figures
// are then 0.
type Stats struct {
	Found            bool
	Processed        int
	MaxStatesPerInsn int
	TotalStates      int
	PeakStates       int
	MarkRead         int
}

// TestRun is the outcome of running an accepted program once.
type TestRun struct {
	// Ret is the program's return value.
	Ret uint32
	// Err is empty when the run worked, else why the kernel refused to run it (for example
	// "EINVAL: programs for devmap or cpumap entries cannot be test-run").
	Err string
}

var (
	// insnLineRE matches the line the verifier prints for each instruction it analyses:
	// "12: (bf) r1 = r6" (possibly followed by the register state after "; "). The state line
	// the analysis starts with ("0: R1=ctx() R10=fp0") and "12: safe" have no opcode in
	// parentheses and do not match.
	insnLineRE = regexp.MustCompile(`^(\d+): \([0-9a-f]{2}\) `)
	// statsRE is the final line. A message the kernel prints without its newline ("expected
	// prog array map for tail call") runs into it, so it need not start the line.
	statsRE = regexp.MustCompile(`processed (\d+) insns \(limit \d+\) max_states_per_insn (\d+) total_states (\d+) peak_states (\d+) mark_read (\d+)`)
	// namedInsnRE are the errors the kernel raises before its analysis walks the program
	// (check_subprogs, check_cfg, ...) that name an instruction; the first group is it.
	namedInsnRE = []*regexp.Regexp{
		regexp.MustCompile(`^back-edge from insn (\d+) to \d+`),
		regexp.MustCompile(`^jump out of range from insn (\d+) to -?\d+`),
		regexp.MustCompile(`^unreachable insn (\d+)`),
		regexp.MustCompile(`^jump to reserved code from insn (\d+) to \d+`),
		regexp.MustCompile(`^jump into the middle of ldimm64 insn (\d+)`),
		regexp.MustCompile(`^invalid BPF_LD_IMM insn`), // no index: matched so that it stays -1
	}
	// afterWalkRE are the errors the kernel raises after its walk (check_max_stack_depth): they
	// blame no instruction, whatever instruction lines the log kept.
	afterWalkRE = regexp.MustCompile(`^(combined stack size of \d+ calls is \d+\. Too large|tail_calls are not allowed when call stack of previous frames is \d+ bytes\. Too large)`)
	// infoLineRE are lines level 1 prints on the way that are not errors.
	infoLineRE = regexp.MustCompile(`^(mark_precise: |func#\d+ @\d+$|Global function \S+\(\) doesn't return scalar\. Only those are supported\.|Validating \S+ func#\d+\.\.\.|Func#\d+ \('.*'\) is global and assumed valid\.|caller:|callee:|returning from callee:|from \d+ to \d+(?: \(speculative execution\))?: |\d+: safe$|\d+: (?:frame\d+: )?R\d|\s+(?:frame\d+: )?R\d|verification time |stack depth )`)
)

// ParseStats reads the figures of the final "processed ..." line of a verifier log.
func ParseStats(log string) Stats {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		m := statsRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		n := func(s string) int { v, _ := strconv.Atoi(s); return v }
		return Stats{Found: true, Processed: n(m[1]), MaxStatesPerInsn: n(m[2]), TotalStates: n(m[3]), PeakStates: n(m[4]), MarkRead: n(m[5])}
	}
	return Stats{}
}

// lastInsnLine is the index (in lines) of the last instruction line before end, or -1.
func lastInsnLine(lines []string, end int) int {
	for i := end - 1; i >= 0; i-- {
		if insnLineRE.MatchString(lines[i]) {
			return i
		}
	}
	return -1
}

// statsLine is the index of the log's last "processed ..." line, or len(lines).
func statsLine(lines []string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if statsRE.MatchString(lines[i]) {
			return i
		}
	}
	return len(lines)
}

// ErrorMessage reads the error off the log of a rejected program: the lines after the last
// instruction line (from the start when there is none) up to the final "processed ..." line
// (with what the kernel printed on that line before it, when a message lacked its newline),
// leaving out C source lines ("; ..."), empty lines and the lines level 1 prints on the way that
// are no errors (register states, "caller:"/"callee:", "Validating f() func#1...", "from 4 to 7:
// ...", "6: safe"). The lines are joined with "\n" and have their trailing space removed.
func ErrorMessage(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n\x00"), "\n")
	end := statsLine(lines)
	start := lastInsnLine(lines, end) + 1
	var msg []string
	tail := lines[start:end]
	if end < len(lines) {
		// Keep what ran into the "processed" line.
		tail = append(tail[:len(tail):len(tail)], lines[end][:statsRE.FindStringIndex(lines[end])[0]])
	}
	for _, l := range tail {
		l = strings.TrimRight(l, " \t")
		if l == "" || strings.HasPrefix(l, "; ") || l == ";" || infoLineRE.MatchString(l) {
			continue
		}
		msg = append(msg, l)
	}
	return strings.Join(msg, "\n")
}

// BlamedInsn reads the instruction a rejected program's log blames, in the kernel's numbering:
//
//  1. if the error (see [ErrorMessage]) is one the kernel raises before its analysis and that
//     names an instruction, that instruction: "back-edge from insn X to Y", "jump out of range
//     from insn X to Y", "jump to reserved code from insn X to Y" give X, "unreachable insn N"
//     and "jump into the middle of ldimm64 insn N" give N;
//  2. otherwise the index of the last instruction line ("N: (op) ...") the log printed before
//     the error: the instruction the analysis was at when it gave up;
//  3. -1 for the errors the kernel raises after its analysis, about the stack the whole call
//     chain uses ("combined stack size of 3 calls is 528. Too large", "tail_calls are not
//     allowed when call stack of previous frames is 272 bytes. Too large"), and when there is
//     no instruction line (errors raised before the analysis that name no instruction, such as
//     "unknown opcode 8d" or "last insn is not an exit or jmp", and an empty log).
func BlamedInsn(log string) int {
	lines := strings.Split(strings.TrimRight(log, "\n\x00"), "\n")
	end := statsLine(lines)
	msg := ErrorMessage(log)
	for _, l := range strings.Split(msg, "\n") {
		if afterWalkRE.MatchString(l) {
			return -1
		}
		for _, re := range namedInsnRE {
			if m := re.FindStringSubmatch(l); m != nil {
				if len(m) < 2 {
					return -1
				}
				n, _ := strconv.Atoi(m[1])
				return n
			}
		}
	}
	if i := lastInsnLine(lines, end); i >= 0 {
		n, _ := strconv.Atoi(insnLineRE.FindStringSubmatch(lines[i])[1])
		return n
	}
	return -1
}
