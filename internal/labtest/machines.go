package labtest

// Machine is the shape of a machine a verdict must come out right on.
// The course is built and checked on 2-vCPU virtual machines, learners run
// it on laptops and classes on servers: every judge is table-tested with
// measurements shaped like each of these, so that a claim about "the CPUs"
// holds or fails for the reason its words give, not for a reason that
// happens to hold on the machine it was written on.
type Machine struct {
	Name       string
	CPUs       int  // logical CPUs the run may use (affinity, lowered by a quota)
	Cores      int  // physical cores under them: fewer than CPUs with hyper-threads
	GOMAXPROCS int  // what the Go runtime chooses there
	VM         bool // a virtual machine: cross-CPU wake-ups go through the hypervisor
}

// SMT reports whether the machine's CPUs include hyper-threads, two
// logical CPUs sharing one core's execution units.
func (m Machine) SMT() bool { return m.Cores < m.CPUs }

// Machines are the five shapes: a container held to one CPU, this VM, a
// laptop with hyper-threads, a workstation and a server.
var Machines = []Machine{
	{Name: "a 1-CPU container", CPUs: 1, Cores: 1, GOMAXPROCS: 1},
	{Name: "this VM (2 vCPUs)", CPUs: 2, Cores: 2, GOMAXPROCS: 2, VM: true},
	{Name: "a 4-core laptop with hyper-threads (8 logical CPUs)", CPUs: 8, Cores: 4, GOMAXPROCS: 8},
	{Name: "a 16-core workstation", CPUs: 16, Cores: 16, GOMAXPROCS: 16},
	{Name: "a 64-CPU server (32 cores, hyper-threads)", CPUs: 64, Cores: 32, GOMAXPROCS: 64},
}
