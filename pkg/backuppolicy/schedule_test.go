package backuppolicy

import (
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestScheduleLongestGap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr string
		want       time.Duration
	}{
		{"hourly", "cron(0 * ? * * *)", time.Hour},
		{"every 12 hours", "cron(0 0/12 ? * * *)", 12 * time.Hour},
		{"every 12 hours as a list", "cron(30 6,18 * * ? *)", 12 * time.Hour},
		{"uneven hours", "cron(0 1,5,17 ? * * *)", 12 * time.Hour},
		{"every 8 hours from 2", "cron(0 2/8 ? * * *)", 8 * time.Hour},
		{"daily, the AWS Backup default", "cron(0 5 ? * * *)", day},
		{"daily with ? in day-of-week", "cron(0 5 * * ? *)", day},
		{"twice a day", "cron(15 3,9 * * ? *)", 18 * time.Hour},
		{"weekly on Sunday", "cron(0 5 ? * 1 *)", 7 * day},
		{"weekly by name", "cron(0 5 ? * SUN *)", 7 * day},
		{"weekdays", "cron(0 5 ? * MON-FRI *)", 3 * day},
		{"weekdays, lower case", "cron(0 5 ? * mon-fri *)", 3 * day},
		{"weekend wrapping range", "cron(0 5 ? * SAT-SUN *)", 6 * day},
		{"monthly on the 1st", "cron(0 5 1 * ? *)", 31 * day},
		{"monthly on the 31st: 7 months have one", "cron(0 5 31 * ? *)", 61 * day},
		{"last day of the month", "cron(0 5 L * ? *)", 31 * day},
		{"last weekday of the month", "cron(0 5 LW * ? *)", 33 * day},
		// Friday 14th (the 15th a Saturday) to Tuesday 15th of a 31-day month.
		{"weekday nearest the 15th", "cron(0 5 15W * ? *)", 32 * day},
		{"third day before the end", "cron(0 5 L-3 * ? *)", 31 * day},
		{"second Tuesday", "cron(0 5 ? * 3#2 *)", 35 * day},
		{"last Friday", "cron(0 5 ? * 6L *)", 35 * day},
		{"L in day-of-week is Saturday", "cron(0 5 ? * L *)", 7 * day},
		{"every other day of the month", "cron(0 5 1/2 * ? *)", 2 * day},
		{"quarterly", "cron(0 5 1 1,4,7,10 ? *)", 92 * day},
		{"quarterly by names and step", "cron(0 5 1 JAN/3 ? *)", 92 * day},
		{"yearly", "cron(0 5 1 1 ? *)", 366 * day},
		// 29 February skips 2100: 2096 to 2104.
		{"leap day", "cron(0 5 29 2 ? *)", (365*8 + 1) * day},
		{"every 15 minutes", "cron(0/15 * ? * * *)", 15 * time.Minute},
		{"working hours", "cron(0 9-17 ? * MON-FRI *)", (2*24 + 16) * time.Hour},
		{"several spaces between fields", "cron(0   5 ? * * *)", day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, bounded := mustSchedule(t, tt.expr).LongestGap()
			if !bounded || got != tt.want {
				t.Errorf("LongestGap(%s) = %v, %v; want %v, true", tt.expr, got, bounded, tt.want)
			}
		})
	}
}

func mustSchedule(t *testing.T, expr string) *Schedule {
	t.Helper()
	s, err := ParseSchedule(expr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScheduleUnbounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr string
		runs       bool
	}{
		{"30 February", "cron(0 5 30 2 ? *)", false},
		{"fifth Monday of February in no leap year", "cron(0 5 ? 2 2#5 2027)", false},
		{"one year only", "cron(0 5 ? * * 2027)", true},
		{"years to 2199", "cron(0 5 ? * * 2025-2199)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustSchedule(t, tt.expr)
			if _, bounded := s.LongestGap(); bounded {
				t.Errorf("LongestGap(%s) is bounded, want unbounded", tt.expr)
			}
			if s.Runs() != tt.runs {
				t.Errorf("Runs(%s) = %v, want %v", tt.expr, s.Runs(), tt.runs)
			}
		})
	}
}

func TestParseScheduleErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{"rate(1 day)", "rate() expressions are not accepted"},
		{"0 5 * * ? *", "not cron(minutes hours day-of-month month day-of-week year)"},
		// AWS Backup takes the string as written.
		{" cron(0 5 ? * * *)", "not cron("},
		{"cron(0 5 ? * * *) ", "not cron("},
		{"cron(0 5 * * ?)", "5 fields, want 6"},
		{"cron(0 5 * * ? * *)", "7 fields, want 6"},
		{"cron(60 5 * * ? *)", `minutes: "60": want 0-59`},
		{"cron(0 24 * * ? *)", `hours: "24": want 0-23`},
		{"cron(0 5 32 * ? *)", `day-of-month: "32": want 1-31`},
		{"cron(0 5 * 13 ? *)", `month: "13": want 1-12 or JAN-DEC`},
		{"cron(0 5 ? * 8 *)", `day-of-week: "8": want 1-7 or SUN-SAT`},
		{"cron(0 5 ? * XYZ *)", `day-of-week: "XYZ"`},
		{"cron(0 5 * * ? 1969)", `year: "1969": want 1970-2199`},
		{"cron(0 5 * * * *)", "exactly one of day-of-month and day-of-week must be ?"},
		{"cron(0 5 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"},
		{"cron(0/0 5 * * ? *)", "increment must be a number from 1 to 60"},
		{"cron(0 5 ? * 3#1,6#3 *)", "with # the field takes one expression only"},
		{"cron(0 5 ? * 3#6 *)", "instance after # must be 1-5"},
		{"cron(0 5 L-31 * ? *)", "L-n needs n from 1 to 30"},
		{"cron(0 5 32W * ? *)", "nW needs a day from 1 to 31"},
		{"cron(0 5 1,,2 * ? *)", "day-of-month"},
		{"cron(0 5 ? * 1-L *)", "day-of-week"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSchedule(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSchedule(%q) error = %v, want it to contain %q", tt.expr, err, tt.want)
			}
		})
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, seed := range []string{
		"cron(0 5 ? * * *)", "cron(0 * ? * * *)", "cron(0 5 1 * ? *)", "cron(0 5 L * ? *)",
		"cron(0 5 ? * MON-FRI *)", "cron(0 5 15W * ? *)", "cron(0 5 ? * 3#2 *)", "cron(0 5 ? * 6L *)",
		"cron(0 5 LW * ? *)", "cron(0 5 L-3 * ? *)", "cron(0/15 */2 1-31/3 JAN-DEC/2 ? 2025-2030)",
		"cron(0 5 ? * SAT-SUN *)", "cron(0 5 29 2 ? *)", "rate(1 day)", "cron()", "cron(- - - - - -)",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := ParseSchedule(expr)
		if _, msg := checkSchedule(expr); (err == nil) != (msg == "") {
			t.Fatalf("ParseSchedule and the validator disagree on %q: %v", expr, err)
		}
		if err != nil {
			return
		}
		_ = s.Undocumented()
		gap, bounded := s.LongestGap()
		if bounded && (gap <= 0 || gap > 100*366*day) {
			t.Fatalf("LongestGap(%q) = %v", expr, gap)
		}
		if bounded && !s.Runs() {
			t.Fatalf("%q: a bounded gap for a schedule that never runs", expr)
		}
	})
}
