package backuppolicy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// cronField describes one field of an AWS cron expression (Amazon
// EventBridge User Guide, "Cron expressions reference"; AWS Backup
// BackupRule.ScheduleExpression takes the same six-field form, in UTC).
type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
	cronFields = [6]cronField{
		{name: "minutes", min: 0, max: 59},
		{name: "hours", min: 0, max: 23},
		{name: "day-of-month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: monthNames},
		{name: "day-of-week", min: 1, max: 7, names: dayNames},
		{name: "year", min: 1970, max: 2199},
	}
	cronCall = regexp.MustCompile(`^cron\((.*)\)$`)
	// dom: L (last day), NW (weekday nearest N), LW; dow: NL (last N-day
	// of the month), N#k (k-th N-day).
	domSpecial = regexp.MustCompile(`^(L|LW|([0-9]{1,2})W)$`)
	dowSpecial = regexp.MustCompile(`^([0-9A-Za-z]{1,3})(L|#([1-5]))$`)
)

// checkSchedule returns why expr is not an AWS Backup cron expression, or "".
func checkSchedule(expr string) string {
	if strings.HasPrefix(expr, "rate(") {
		return "rate() expressions are not accepted; use cron(minutes hours day-of-month month day-of-week year) in UTC"
	}
	m := cronCall.FindStringSubmatch(expr)
	if m == nil {
		return fmt.Sprintf("%q is not cron(minutes hours day-of-month month day-of-week year)", expr)
	}
	fields := strings.Fields(m[1])
	if len(fields) != 6 {
		return fmt.Sprintf("cron needs exactly 6 fields (minutes hours day-of-month month day-of-week year), not %d", len(fields))
	}
	for i, f := range fields {
		if msg := checkCronField(cronFields[i], f, i); msg != "" {
			return "cron " + cronFields[i].name + " field " + strconv.Quote(f) + ": " + msg
		}
	}
	if (fields[2] == "?") == (fields[4] == "?") {
		return "exactly one of day-of-month and day-of-week must be ?"
	}
	return ""
}

func checkCronField(f cronField, s string, idx int) string {
	if s == "?" {
		if idx == 2 || idx == 4 {
			return ""
		}
		return "? is allowed only in day-of-month or day-of-week"
	}
	for item := range strings.SplitSeq(s, ",") {
		if idx == 2 && domSpecial.MatchString(item) {
			if sm := domSpecial.FindStringSubmatch(item); sm[2] != "" {
				if n, _ := strconv.Atoi(sm[2]); n < 1 || n > 31 {
					return fmt.Sprintf("%s is out of range 1-31", sm[2])
				}
			}
			continue
		}
		if idx == 4 && (item == "L" || dowSpecial.MatchString(item)) {
			if sm := dowSpecial.FindStringSubmatch(item); sm != nil {
				if _, msg := cronValue(f, sm[1]); msg != "" {
					return msg
				}
			}
			continue
		}
		base, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 {
				return fmt.Sprintf("step %q must be a positive integer", step)
			}
		}
		if base == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(base, "-")
		a, msg := cronValue(f, lo)
		if msg != "" {
			return msg
		}
		if isRange {
			b, msg := cronValue(f, hi)
			if msg != "" {
				return msg
			}
			if b < a && idx != 4 {
				return fmt.Sprintf("range %s runs backwards", base)
			}
		}
	}
	return ""
}

func cronValue(f cronField, s string) (int, string) {
	if n, ok := f.names[strings.ToUpper(s)]; ok {
		return n, ""
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Sprintf("%q is not a number", s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Sprintf("%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, ""
}
