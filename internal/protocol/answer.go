package protocol

// Self-checks and exercises (internal/teach): a learner answers a
// question at the end of a lesson, or the one an exercise ends on, and
// asks how an exercise stands once its runs are done.
const (
	// OpAnswer answers a question: {"op":"answer","question":ID,"value":V},
	// where V is the chosen choice's index from 0, or the number. The
	// answer to a self-check question is Answered; to an exercise's
	// question (ID the exercise's), ExerciseState.
	OpAnswer = "answer"
	// OpExercise asks how an exercise stands: {"op":"exercise","exercise":ID}.
	// The page asks after a run of one of its experiments ends.
	OpExercise = "exercise"
)

// AnswerRequest is an answer or exercise request as the page sends it.
// Request does not carry these fields; the web layer reads such a message
// again with this.
type AnswerRequest struct {
	Op       string `json:"op"`
	Question string `json:"question,omitempty"` // answer
	Exercise string `json:"exercise,omitempty"` // exercise
	Value    any    `json:"value,omitempty"`    // answer: a number (float64 once decoded)
}

// Answered answers a self-check question: right or wrong, and why.
type Answered struct {
	Question    string  `json:"question"`
	Correct     bool    `json:"correct"`
	Explanation string  `json:"explanation"`
	Value       float64 `json:"value"`           // the answer kept: the first one given
	Again       bool    `json:"again,omitempty"` // it was answered before; Value is that first answer
	Kept        bool    `json:"kept"`            // false when the store could not keep it
}

// ExerciseState is how an exercise stands for the learner: which of its
// runs exist, whether its question is answered, and — once both are
// there — whether the answer proved right and the explanation, written
// from the learner's runs.
type ExerciseState struct {
	Exercise    string      `json:"exercise"`
	Answered    bool        `json:"answered"`
	Value       *float64    `json:"value,omitempty"` // the answer kept, when answered
	Needs       []NeedState `json:"needs"`           // one per run it needs, in order
	Done        bool        `json:"done"`
	Correct     bool        `json:"correct"`
	Explanation string      `json:"explanation,omitempty"` // only once done
	Message     string      `json:"message"`               // for a person: where it stands, what is left to do
}

// NeedState is one run an exercise needs: found among the learner's
// stored runs or not.
type NeedState struct {
	Done bool   `json:"done"`
	Run  string `json:"run,omitempty"` // the run that counts for it
}

// AnswerError is Error for a question or an exercise; it names which, so
// the page can show it there.
type AnswerError struct {
	Message  string `json:"message"`
	Op       string `json:"op"`
	Question string `json:"question,omitempty"`
	Exercise string `json:"exercise,omitempty"`
}

func (Answered) Type() string      { return "answered" }
func (ExerciseState) Type() string { return "exercise" }
func (AnswerError) Type() string   { return "error" }
