package concurrencyvsparallelism

// block is one coloured piece of the textbook diagram: a task holding a
// CPU for a while.
type block struct {
	X, Y, W int
	Label   string
	Class   string
}

// Layout of the textbook diagram: lanes start at x0, a turn is turnW wide.
const (
	x0    = 60
	turnW = 38
	laneH = 24
)

// lane returns n turns starting at x, cycling through labels.
func lane(x, y, n int, labels ...string) []block {
	out := make([]block, n)
	for i := range out {
		l := labels[i%len(labels)]
		out[i] = block{X: x + i*turnW, Y: y, W: turnW, Label: l, Class: "cvp-" + l}
	}
	return out
}

// textbookBlocks is the hand-drawn picture of the three timelines the
// experiment then draws from measurements: two tasks taking turns on one
// CPU, the same two on two CPUs (done in half the time), and four tasks on
// two CPUs.
func textbookBlocks() []block {
	var b []block
	b = append(b, lane(x0, 34, 8, "A", "B")...)
	b = append(b, lane(x0, 112, 4, "A")...)
	b = append(b, lane(x0, 140, 4, "B")...)
	b = append(b, lane(x0, 218, 8, "A1", "B1")...)
	b = append(b, lane(x0, 246, 8, "B2", "A2")...)
	return b
}
