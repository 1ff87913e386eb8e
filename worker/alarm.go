package worker

import (
	"fmt"
	"time"
)

// alarmEvery is how often a failure that goes on (a full disk) is
// reported again: a job writing into a full disk must not turn every
// failed write into a line of the event log (issue 10: 395,222 lines in
// 10 s).
const alarmEvery = time.Minute

// alarm turns a run of failures of one operation into few lines: the
// first failure at once, then at most one line per every with the count
// of failures it held back, and one line when the operation works again.
// Not safe for concurrent use: its owner's lock guards it.
type alarm struct {
	what  string // the operation and its object: "write /x/app.log"
	every time.Duration

	failing bool
	since   time.Time // the run's first failure
	last    time.Time // the last line reported
	held    int       // failures not reported since the last line
	count   int       // failures in the run
	lost    int64     // bytes lost in the run
}

// fail counts one failure that lost lost bytes; it returns the line to
// report, or "" to stay quiet.
func (a *alarm) fail(now time.Time, err error, lost int64) string {
	a.count++
	a.lost += lost
	if !a.failing {
		a.failing, a.since, a.last, a.held = true, now, now, 0
		return fmt.Sprintf("%s: %v", a.what, err)
	}
	if now.Sub(a.last) < a.every {
		a.held++
		return ""
	}
	msg := fmt.Sprintf("%s: %v (failing since %s; %d failures not reported)", a.what, err, a.since.Format("15:04:05"), a.held)
	a.last, a.held = now, 0
	return msg
}

// ok ends a run of failures; it returns the line that says so, or "" if
// nothing was failing.
func (a *alarm) ok(now time.Time) string {
	if !a.failing {
		return ""
	}
	msg := fmt.Sprintf("%s: works again after %d failures in %s", a.what, a.count, now.Sub(a.since).Round(time.Second))
	if a.lost > 0 {
		msg += fmt.Sprintf("; %d bytes of output lost", a.lost)
	}
	*a = alarm{what: a.what, every: a.every}
	return msg
}
