package protocol

// Class mode's assignments: the instructor gives the class an exercise,
// one self-check question or a lesson's whole self-check from /class;
// every following page goes to it (a Present), and the instructor's class
// view tallies the answers live.

// OpAssign is the instructor's: {"op":"assign","lesson":SLUG,"exercise":ID},
// {"op":"assign","lesson":SLUG,"question":ID} or
// {"op":"assign","lesson":SLUG,"self_check":true}. It is answered
// Assigned; the class view then carries the tally (Class.Assignment).
const OpAssign = "assign"

// What an assignment is (Assignment.Kind).
const (
	AssignExercise  = "exercise"   // one exercise: its question, and whether its runs are in
	AssignQuestion  = "question"   // one question of a lesson's self-check
	AssignSelfCheck = "self-check" // every question of a lesson's self-check
)

// AssignTarget is what an assign request names besides its lesson: one
// of an exercise, a question, or the whole self-check. Request carries
// it.
type AssignTarget struct {
	Exercise  string `json:"exercise,omitempty"`
	Question  string `json:"question,omitempty"`
	SelfCheck bool   `json:"self_check,omitempty"`
}

// Assigned confirms an assignment to the instructor: every following page
// was sent to it.
type Assigned struct {
	Lesson string `json:"lesson"`
	Kind   string `json:"kind"`
	ID     string `json:"id,omitempty"` // the exercise's or question's; none for a self-check
	Title  string `json:"title"`
	Anchor string `json:"anchor"` // where on the lesson's page the followers were sent
}

// Assignment is what the instructor assigned last, and how the class has
// answered it so far, in the class view. Only learners of the class count:
// those with a page of the course open when it was assigned or since, and
// those who answer while it is assigned; not the instructor.
type Assignment struct {
	Assigned
	// Learners is how many learners have the assignment's lesson open now.
	Learners int `json:"learners"`
	// Questions is a tally for each question it asks, in the page's order.
	Questions []Tally `json:"questions"`
}

// Tally is the class's answers to one question.
type Tally struct {
	Question string `json:"question"`
	Text     string `json:"text"`
	Kind     string `json:"kind"` // choice or number
	Answered int    `json:"answered"`
	// Right counts the answers that were right; for an exercise, those
	// found right once the learner's runs were in.
	Right int `json:"right"`
	// Done counts, for an exercise, the learners whose answer is in and
	// whose runs are too (its answer opened).
	Done *int `json:"done,omitempty"`
	// Key is the right answer, for a person ("the second", "3–4 ms"),
	// when the question alone says it; an exercise's depends on the runs.
	Key string `json:"key,omitempty"`
	// A choice: the choices, and the answers each got, in order.
	Choices []string `json:"choices,omitempty"`
	Counts  []int    `json:"counts,omitempty"`
	// A number: its unit, the spread of the answers (once there are
	// some), and a histogram of them: [lo, hi, answers] from low to high.
	Unit   string       `json:"unit,omitempty"`
	Min    *float64     `json:"min,omitempty"`
	Median *float64     `json:"median,omitempty"`
	Max    *float64     `json:"max,omitempty"`
	Bins   [][3]float64 `json:"bins,omitempty"`
}

// The kinds of question (Tally.Kind).
const (
	QuestionChoice = "choice"
	QuestionNumber = "number"
)

func (Assigned) Type() string { return "assigned" }
