package backuppolicy

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// The schedule syntax is EventBridge's cron, which AWS Backup rules use
// (Amazon EventBridge User Guide, "Cron expressions reference"): six
// fields, minutes hours day-of-month month day-of-week year, in UTC.
const (
	minYear = 1970
	maxYear = 2199
	// A Gregorian calendar repeats every 400 years, weekdays included
	// (146,097 days, a whole number of weeks), so the runs of a schedule
	// whose year field is * repeat with that period.
	cycleYears = 400
	cycleDays  = 146097
	// The first year of the cycle examined; any year would do.
	cycleStart = 2000
)

// Schedule is a parsed AWS Backup schedule expression.
type Schedule struct {
	expr    string
	fields  []string
	minutes uint64 // bits 0-59
	hours   uint32 // bits 0-23
	months  uint16 // bits 1-12
	years   []bool // index year-minYear; nil for *
	dom     domField
	dow     dowField
}

// domField is the day-of-month field. any is "?".
type domField struct {
	any         bool
	days        uint32 // bits 1-31
	last        bool   // L
	lastWeekday bool   // LW
	lastMinus   []int  // L-n
	nearWeekday []int  // nW
}

// dowField is the day-of-week field, 1 = Sunday ... 7 = Saturday. any is "?".
type dowField struct {
	any    bool
	days   uint8 // bits 1-7
	lastOf []int // nL: the last such weekday of the month
	nth    []nth // n#k: the k-th such weekday of the month
}

type nth struct{ weekday, k int }

var (
	monthNames   = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	weekdayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

// ParseSchedule parses an AWS Backup schedule expression
// "cron(m h dom mon dow y)", the one parser of both the validator and the
// compliance check. It accepts the wildcards EventBridge documents for
// each field (, - * / ? L W #, month and weekday names, in any case) and,
// as the Quartz syntax EventBridge's follows, "LW", "L-n", "nL" and ranges
// that wrap around (FRI-MON, 22-2): EventBridge documents them neither as
// allowed nor as refused, and the policy manager must not refuse what AWS
// may accept; Undocumented lists them, for a warning. Nothing around the
// expression is trimmed: AWS Backup takes the string as written.
func ParseSchedule(expr string) (*Schedule, error) {
	s := expr
	inner, ok := strings.CutPrefix(s, "cron(")
	if !ok || !strings.HasSuffix(inner, ")") {
		if strings.HasPrefix(s, "rate(") {
			// EventBridge takes rate(); AWS Backup rules document only
			// cron (BackupRuleInput.ScheduleExpression).
			return nil, fmt.Errorf("schedule %q: rate() expressions are not accepted; use cron(minutes hours day-of-month month day-of-week year) in UTC", expr)
		}
		return nil, fmt.Errorf("schedule %q: not cron(minutes hours day-of-month month day-of-week year)", expr)
	}
	fields := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(fields) != 6 {
		return nil, fmt.Errorf("schedule %q: %d fields, want 6 (minutes hours day-of-month month day-of-week year)", expr, len(fields))
	}
	sch := &Schedule{expr: s, fields: fields}
	var err error
	fail := func(name string, err error) (*Schedule, error) {
		return nil, fmt.Errorf("schedule %q: %s: %w", expr, name, err)
	}
	var v uint64
	if v, err = parseSet(fields[0], 0, 59, nil); err != nil {
		return fail("minutes", err)
	}
	sch.minutes = v
	if v, err = parseSet(fields[1], 0, 23, nil); err != nil {
		return fail("hours", err)
	}
	sch.hours = uint32(v)
	if v, err = parseSet(fields[3], 1, 12, monthNames); err != nil {
		return fail("month", err)
	}
	sch.months = uint16(v)
	if sch.dom, err = parseDOM(fields[2]); err != nil {
		return fail("day-of-month", err)
	}
	if sch.dow, err = parseDOW(fields[4]); err != nil {
		return fail("day-of-week", err)
	}
	// "You can't specify the Day-of-month and Day-of-week fields in the
	// same cron expression. If you specify a value or a * in one of the
	// fields, you must use a ? in the other." (EventBridge, "Cron
	// expressions reference", Limitations)
	if sch.dom.any == sch.dow.any {
		return nil, fmt.Errorf("schedule %q: exactly one of day-of-month and day-of-week must be ?", expr)
	}
	if fields[5] != "*" {
		sch.years = make([]bool, maxYear-minYear+1)
		set, err := parseItems(fields[5], minYear, maxYear, nil)
		if err != nil {
			return fail("year", err)
		}
		for _, y := range set {
			sch.years[y-minYear] = true
		}
	}
	return sch, nil
}

// parseSet parses a list field into a bit set.
func parseSet(field string, lo, hi int, names []string) (uint64, error) {
	vals, err := parseItems(field, lo, hi, names)
	if err != nil {
		return 0, err
	}
	var set uint64
	for _, v := range vals {
		set |= 1 << v
	}
	return set, nil
}

// parseItems parses "a,b-c,*/n,a/n,b-c/n" into the values it includes.
func parseItems(field string, lo, hi int, names []string) ([]int, error) {
	if field == "" {
		return nil, fmt.Errorf("empty")
	}
	var out []int
	for item := range strings.SplitSeq(field, ",") {
		vals, err := parseItem(item, lo, hi, names)
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	return out, nil
}

func parseItem(item string, lo, hi int, names []string) ([]int, error) {
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 || n > hi-lo+1 {
			return nil, fmt.Errorf("%q: the increment must be a number from 1 to %d", item, hi-lo+1)
		}
		step = n
	}
	var from, to int
	switch {
	case rng == "*":
		from, to = lo, hi
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		var err error
		if from, err = value(a, lo, hi, names); err != nil {
			return nil, err
		}
		if to, err = value(b, lo, hi, names); err != nil {
			return nil, err
		}
	default:
		v, err := value(rng, lo, hi, names)
		if err != nil {
			return nil, err
		}
		from, to = v, v
		if hasStep {
			// "a/n" starts at a and runs to the end of the range.
			to = hi
		}
	}
	// A range whose end is before its start wraps around (FRI-MON,
	// 22-2), as in the Quartz syntax.
	span := to - from
	if span < 0 {
		span += hi - lo + 1
	}
	var out []int
	for i := 0; i <= span; i += step {
		v := from + i
		if v > hi {
			v -= hi - lo + 1
		}
		out = append(out, v)
	}
	return out, nil
}

func value(text string, lo, hi int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(text, n) {
			return lo + i, nil
		}
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < lo || v > hi {
		if names != nil {
			return 0, fmt.Errorf("%q: want %d-%d or %s-%s", text, lo, hi, names[0], names[len(names)-1])
		}
		return 0, fmt.Errorf("%q: want %d-%d", text, lo, hi)
	}
	return v, nil
}

func parseDOM(field string) (domField, error) {
	var f domField
	if field == "?" {
		f.any = true
		return f, nil
	}
	for item := range strings.SplitSeq(field, ",") {
		switch {
		case item == "L":
			f.last = true
		case item == "LW":
			f.lastWeekday = true
		case strings.HasPrefix(item, "L-"):
			n, err := strconv.Atoi(item[2:])
			if err != nil || n < 1 || n > 30 {
				return f, fmt.Errorf("%q: L-n needs n from 1 to 30", item)
			}
			f.lastMinus = append(f.lastMinus, n)
		case strings.HasSuffix(item, "W"):
			n, err := value(strings.TrimSuffix(item, "W"), 1, 31, nil)
			if err != nil {
				return f, fmt.Errorf("%q: nW needs a day from 1 to 31", item)
			}
			f.nearWeekday = append(f.nearWeekday, n)
		default:
			vals, err := parseItem(item, 1, 31, nil)
			if err != nil {
				return f, err
			}
			for _, v := range vals {
				f.days |= 1 << v
			}
		}
	}
	return f, nil
}

func parseDOW(field string) (dowField, error) {
	var f dowField
	if field == "?" {
		f.any = true
		return f, nil
	}
	items := strings.Split(field, ",")
	for _, item := range items {
		switch {
		case item == "L":
			// L alone is the last day of the week, Saturday.
			f.days |= 1 << 7
		case strings.Contains(item, "#"):
			// "If you use a '#' character, you can define only one
			// expression in the day-of-week field." (EventBridge, "Cron
			// expressions reference")
			if len(items) > 1 {
				return f, fmt.Errorf("%q: with # the field takes one expression only", field)
			}
			d, k, _ := strings.Cut(item, "#")
			wd, err := value(d, 1, 7, weekdayNames)
			if err != nil {
				return f, err
			}
			n, err := strconv.Atoi(k)
			if err != nil || n < 1 || n > 5 {
				return f, fmt.Errorf("%q: the instance after # must be 1-5", item)
			}
			f.nth = append(f.nth, nth{wd, n})
		case len(item) > 1 && strings.HasSuffix(item, "L"):
			wd, err := value(strings.TrimSuffix(item, "L"), 1, 7, weekdayNames)
			if err != nil {
				return f, err
			}
			f.lastOf = append(f.lastOf, wd)
		default:
			vals, err := parseItem(item, 1, 7, weekdayNames)
			if err != nil {
				return f, err
			}
			for _, v := range vals {
				f.days |= 1 << v
			}
		}
	}
	return f, nil
}

// runsOn reports whether the schedule runs on day d (1-based) of a month
// of dim days whose first day is weekday first (0 = Sunday).
func (s *Schedule) runsOn(d, dim int, first time.Weekday) bool {
	wd := (int(first)+d-1)%7 + 1 // 1 = Sunday
	if s.dom.any {
		f := s.dow
		if f.days&(1<<wd) != 0 {
			return true
		}
		for _, w := range f.lastOf {
			if w == wd && d+7 > dim {
				return true
			}
		}
		for _, n := range f.nth {
			if n.weekday == wd && (d-1)/7+1 == n.k {
				return true
			}
		}
		return false
	}
	f := s.dom
	if f.days&(1<<d) != 0 || (f.last && d == dim) {
		return true
	}
	for _, n := range f.lastMinus {
		if d == dim-n {
			return true
		}
	}
	weekday := func(day int) int { return (int(first)+day-1)%7 + 1 }
	if f.lastWeekday && d == nearestWeekday(dim, dim, weekday) {
		return true
	}
	for _, n := range f.nearWeekday {
		if n <= dim && d == nearestWeekday(n, dim, weekday) {
			return true
		}
	}
	return false
}

// nearestWeekday is the weekday (Monday-Friday) nearest to day n that is
// in the same month, as the W wildcard means ("3W specifies the weekday
// closest to the third day of the month").
func nearestWeekday(n, dim int, weekday func(int) int) int {
	switch weekday(n) {
	case 7: // Saturday: the Friday before, or the Monday after on the 1st.
		if n == 1 {
			return 3
		}
		return n - 1
	case 1: // Sunday: the Monday after, or the Friday before on the last day.
		if n == dim {
			return n - 2
		}
		return n + 1
	}
	return n
}

// LongestGap returns the longest time between two consecutive runs. When
// the schedule never runs, or stops running (its year field ends), there
// is no bound and bounded is false.
func (s *Schedule) LongestGap() (gap time.Duration, bounded bool) {
	times := s.timesOfDay()
	var longest int // minutes
	for i := 1; i < len(times); i++ {
		longest = max(longest, times[i]-times[i-1])
	}
	days := s.runDays()
	if len(days) == 0 || s.years != nil {
		return 0, false
	}
	dayGap := func(a, b int) int { return (b-a)*24*60 + times[0] - times[len(times)-1] }
	for i := 1; i < len(days); i++ {
		longest = max(longest, dayGap(days[i-1], days[i]))
	}
	// The cycle repeats: the last run is followed by the first one of
	// the next cycle.
	longest = max(longest, dayGap(days[len(days)-1], days[0]+cycleDays))
	if longest > math.MaxInt64/int(time.Minute) {
		return 0, false // beyond what a Duration holds: no schedule AWS accepts
	}
	return time.Duration(longest) * time.Minute, true
}

// fieldNames are the six fields, in order.
var fieldNames = []string{"minutes", "hours", "day-of-month", "month", "day-of-week", "year"}

// Undocumented lists the forms ParseSchedule reads as Quartz does that the
// EventBridge "Cron expressions reference" does not document: ranges that
// wrap around (its ranges run upward: "1-15 includes days 1 through 15"),
// L-n in day-of-month, / in day-of-week (its table lists ", - * ? L #"),
// and L or W beside other values. AWS Backup may refuse them; the
// validator warns rather than refuses, as no AWS page says either way.
func (s *Schedule) Undocumented() []string {
	var out []string
	note := func(i int, item, what string) {
		out = append(out, fmt.Sprintf("%s %q: %s", fieldNames[i], item, what))
	}
	names := [][]string{nil, nil, nil, monthNames, weekdayNames, nil}
	bounds := [][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {1, 7}, {minYear, maxYear}}
	for i, field := range s.fields {
		items := strings.Split(field, ",")
		for _, item := range items {
			rng, _, hasStep := strings.Cut(item, "/")
			switch {
			case i == 2 && strings.HasPrefix(item, "L-"):
				note(i, item, "L-n (n days before the last) is not in EventBridge's documented syntax")
				continue
			case i == 4 && hasStep:
				note(i, item, "an increment in day-of-week is not in EventBridge's documented syntax")
			}
			if (i == 2 || i == 4) && len(items) > 1 && strings.ContainsAny(item, "LW") && !strings.EqualFold(item, "WED") {
				note(i, item, "L or W beside other values is not in EventBridge's documented syntax")
			}
			if a, b, ok := strings.Cut(rng, "-"); ok && (i != 2 || !strings.HasPrefix(rng, "L")) {
				lo, err1 := value(a, bounds[i][0], bounds[i][1], names[i])
				hi, err2 := value(b, bounds[i][0], bounds[i][1], names[i])
				if err1 == nil && err2 == nil && hi < lo {
					note(i, item, "a range that wraps around is not in EventBridge's documented syntax; a list of two ranges says the same")
				}
			}
		}
	}
	return out
}

// ShortestGap returns the shortest time between two runs on the same
// day, or 0 when the schedule runs at most once a day.
func (s *Schedule) ShortestGap() time.Duration {
	times := s.timesOfDay()
	shortest := 0
	for i := 1; i < len(times); i++ {
		if d := times[i] - times[i-1]; shortest == 0 || d < shortest {
			shortest = d
		}
	}
	return time.Duration(shortest) * time.Minute
}

// Runs reports whether the schedule runs at all.
func (s *Schedule) Runs() bool { return len(s.runDays()) > 0 }

// timesOfDay returns the minutes after midnight the schedule runs at on a
// day it runs, in order.
func (s *Schedule) timesOfDay() []int {
	out := make([]int, 0, bits.OnesCount32(s.hours)*bits.OnesCount64(s.minutes))
	for h := range 24 {
		if s.hours&(1<<h) == 0 {
			continue
		}
		for m := range 60 {
			if s.minutes&(1<<m) != 0 {
				out = append(out, h*60+m)
			}
		}
	}
	return out
}

// runDays returns the days the schedule runs, numbered from the first day
// examined: a 400-year cycle for a year field of *, else the years listed.
func (s *Schedule) runDays() []int {
	fromYear, toYear := cycleStart, cycleStart+cycleYears-1
	if s.years != nil {
		fromYear, toYear = minYear, maxYear
	}
	start := time.Date(fromYear, time.January, 1, 0, 0, 0, 0, time.UTC)
	var out []int
	for y := fromYear; y <= toYear; y++ {
		if s.years != nil && !s.years[y-minYear] {
			continue
		}
		for m := time.January; m <= time.December; m++ {
			if s.months&(1<<m) == 0 {
				continue
			}
			first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			dim := first.AddDate(0, 1, -1).Day()
			// Unix seconds, not a Duration: 400 years exceed a Duration.
			offset := int((first.Unix() - start.Unix()) / (24 * 60 * 60))
			for d := 1; d <= dim; d++ {
				if s.runsOn(d, dim, first.Weekday()) {
					out = append(out, offset+d-1)
				}
			}
		}
	}
	return out
}

// checkSchedule parses expr once for the validator: the schedule, or why
// expr is not an AWS Backup cron expression (ParseSchedule's reason without
// the expression, which the path and position already locate).
func checkSchedule(expr string) (*Schedule, string) {
	s, err := ParseSchedule(expr)
	if err != nil {
		return nil, strings.TrimPrefix(err.Error(), fmt.Sprintf("schedule %q: ", expr))
	}
	return s, ""
}
