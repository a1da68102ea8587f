package compliance

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

// Finding is one way an effective policy fails a control.
type Finding struct {
	// Target is the account ID or OU ID the effective policy belongs to.
	Target string
	// Plan, Rule and Selection name where the finding is; empty when it
	// is about the whole policy. (The controls report a missing selection
	// for the whole policy, so Selection is empty for now.)
	Plan, Rule, Selection string
	// Control is the ControlName.
	Control string
	// Expected and Actual are the values compared, for people
	// ("≥ 35 days", "7 days").
	Expected, Actual string
	Message          string
	// Path is the JSON path of the value compared in the effective
	// policy (plans.daily.rules.nightly.lifecycle.delete_after_days), or
	// "plans" for the whole policy.
	Path string
	// Source is the control's Source: where the framework declares it.
	Source string
}

// Evaluate checks the effective policy of one target (account or OU)
// against the controls that a policy decides (see Evaluable) and returns
// the findings sorted by plan, rule, selection and control. A nil policy
// is a target without a backup policy. The other controls never produce a
// finding.
func Evaluate(target string, effective *backuppolicy.Node, controls []Control) []Finding {
	plans := readPolicy(effective)
	var out []Finding
	for _, c := range controls {
		if !Evaluable(c.Name) {
			continue
		}
		add := func(f Finding) {
			f.Target, f.Control, f.Source = target, c.Name, c.Source
			out = append(out, f)
		}
		p, err := parseParameters(c)
		if err == nil {
			err = checkScope(c.Scope)
		}
		if err != nil {
			add(Finding{Path: "plans", Message: fmt.Sprintf("the control cannot be evaluated: %v", err)})
			continue
		}
		switch c.Name {
		case PlanMinFrequencyAndRetention:
			planMinFrequencyAndRetention(plans, p, c.Scope, add)
		case RecoveryPointMinimumRetention:
			recoveryPointMinimumRetention(plans, p, c.Scope, add)
		case ProtectedByBackupPlan:
			protectedByBackupPlan(plans, c.Scope, add)
		case ProtectedByCrossRegion:
			protectedByCrossRegion(plans, c.Scope, add, p.regions, c.Regions)
		case ProtectedByCrossAccount:
			protectedByCopy(plans, c.Scope, add, crossAccount(target, p.accounts))
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Target, b.Target), cmp.Compare(a.Plan, b.Plan), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Selection, b.Selection), cmp.Compare(a.Control, b.Control), cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Expected, b.Expected), cmp.Compare(a.Actual, b.Actual), cmp.Compare(a.Message, b.Message),
		)
	})
	return out
}

// planMinFrequencyAndRetention: "Checks if a backup plan has a backup rule
// that satisfies the required frequency and retention period" (AWS Config
// Developer Guide, backup-plan-min-frequency-and-min-retention-check; AWS
// Backup Developer Guide, "Controls and remediation": "Evaluates if backup
// plans contain at least one backup rule..."). So a plan complies when one
// of its rules meets both; when none does, each rule's shortfalls are
// reported. Frequency is the longest gap between two runs of the rule's
// schedule; retention is delete_after_days, and recovery points without
// it are kept until deleted, which meets any minimum. The control
// evaluates backup plans, so a tag scope selects plans by their
// backup_plan_tags; resource types do not apply to plans, and resource IDs
// (plan IDs) exist only once deployed, so with those every plan is
// evaluated.
func planMinFrequencyAndRetention(plans []plan, p parameters, s Scope, add func(Finding)) {
	unit := time.Hour
	if p.frequencyUnit == "days" {
		unit = 24 * time.Hour
	}
	maxGap := time.Duration(p.frequencyValue) * unit
	wantFreq := "≤ " + plural(p.frequencyValue, strings.TrimSuffix(p.frequencyUnit, "s")) + " between backups"
	wantRet := fmt.Sprintf("≥ %s", plural(p.retentionDays, "day"))
	for _, pl := range plans {
		if !pl.taggedFor(s) {
			continue
		}
		var shortfalls []Finding
		compliant := false
		for _, r := range pl.rules {
			var fs []Finding
			if f, ok := frequencyShortfall(r, maxGap); !ok {
				f.Expected = wantFreq
				fs = append(fs, f)
			}
			if r.retention.err != nil || !r.retention.forever() && r.retention.days < p.retentionDays {
				fs = append(fs, Finding{Path: r.retention.path, Expected: wantRet, Actual: retentionText(r.retention)})
			}
			if len(fs) == 0 {
				compliant = true
				break
			}
			for i := range fs {
				fs[i].Plan, fs[i].Rule = pl.name, r.name
				fs[i].Message = fmt.Sprintf("no rule of plan %s backs up at least every %s and keeps recovery points at least %s; rule %s: %s",
					pl.name, plural(p.frequencyValue, strings.TrimSuffix(p.frequencyUnit, "s")), plural(p.retentionDays, "day"), r.name, fs[i].Actual)
			}
			shortfalls = append(shortfalls, fs...)
		}
		if compliant {
			continue
		}
		if len(pl.rules) == 0 {
			add(Finding{Plan: pl.name, Path: path("plans", pl.name, "rules"), Expected: wantFreq + ", " + wantRet, Actual: "no rules",
				Message: fmt.Sprintf("plan %s has no rules, so it never backs up", pl.name)})
		}
		for _, f := range shortfalls {
			add(f)
		}
	}
}

// frequencyShortfall checks a rule's schedule against the longest gap
// allowed; ok is false with the finding's Path and Actual set when it
// falls short.
func frequencyShortfall(r rule, maxGap time.Duration) (f Finding, ok bool) {
	f.Path = path("plans", r.plan, "rules", r.name, "schedule_expression")
	if r.schedule == nil {
		f.Actual = "no schedule_expression"
		return f, false
	}
	expr := text(r.schedule)
	if r.schedule.Kind != backuppolicy.String {
		f.Actual = fmt.Sprintf("schedule %s is not a string", r.schedule.Minify())
		return f, false
	}
	s, err := backuppolicy.ParseSchedule(expr)
	if err != nil {
		f.Actual = fmt.Sprintf("unreadable schedule: %v", err)
		return f, false
	}
	gap, bounded := s.LongestGap()
	switch {
	case !s.Runs():
		f.Actual = fmt.Sprintf("%s never runs", expr)
		return f, false
	case !bounded:
		f.Actual = fmt.Sprintf("%s stops running after the years it lists", expr)
		return f, false
	case gap > maxGap:
		f.Actual = fmt.Sprintf("up to %s between backups (%s)", duration(gap), expr)
		return f, false
	}
	return f, true
}

// taggedFor reports whether a plan is in a plan control's scope: every
// plan, or with a tag scope the plans tagged so.
func (p plan) taggedFor(s Scope) bool {
	for k, v := range s.Tags {
		got, ok := p.planTags[k]
		if !ok || v != "" && got != v {
			return false
		}
	}
	return true
}

// recoveryPointMinimumRetention: "Checks if a recovery point expires no
// earlier than after the specified period" (AWS Config Developer Guide,
// backup-recovery-point-minimum-retention-check). Every rule makes
// recovery points, and every copy action another one in its destination
// vault, so each is checked. "Copies inherit their source configuration
// unless you specify otherwise", and a copy set never to expire "still
// inherits its source expiration date" (AWS Backup Developer Guide,
// "Creating backup copies"): a copy without its own delete_after_days has
// the rule's retention and is reported with the rule. With a resource
// scope, only plans selecting those resources count.
func recoveryPointMinimumRetention(plans []plan, p parameters, s Scope, add func(Finding)) {
	want := fmt.Sprintf("≥ %s", plural(p.retentionDays, "day"))
	short := func(r retention) bool {
		return r.err != nil || !r.forever() && r.days < p.retentionDays
	}
	for _, pl := range plans {
		if scoped(s) && !pl.inScope(s) {
			continue
		}
		for _, r := range pl.rules {
			if short(r.retention) {
				inheriting := 0
				for _, c := range r.copies {
					if c.retention.forever() {
						inheriting++
					}
				}
				msg := fmt.Sprintf("recovery points of rule %s expire after %s", r.name, retentionText(r.retention))
				if inheriting > 0 {
					msg += fmt.Sprintf(", and so do the copies of its %s that set no delete_after_days", plural(inheriting, "copy action"))
				}
				add(Finding{Plan: pl.name, Rule: r.name, Path: r.retention.path, Expected: want, Actual: retentionText(r.retention), Message: msg})
			}
			for _, c := range r.copies {
				if c.retention.days == 0 && c.retention.err == nil {
					continue // inherits the rule's retention, checked above
				}
				if short(c.retention) {
					add(Finding{Plan: pl.name, Rule: r.name, Path: c.retention.path, Expected: want, Actual: retentionText(c.retention),
						Message: fmt.Sprintf("copies of rule %s to %s expire after %s", r.name, c.vault, retentionText(c.retention))})
				}
			}
		}
	}
}

func scoped(s Scope) bool {
	return len(s.ResourceTypes) > 0 || len(s.Tags) > 0 || len(s.ResourceIDs) > 0
}

// protectedByBackupPlan: "Evaluates if resources are protected by a
// backup plan" (AWS Backup Developer Guide, "Choosing your controls").
// Offline, without the resources, the check is that for each part of the
// scope some plan has a selection that can cover it: a resource type
// (all types when unscoped), the scope's tag, its resource IDs.
func protectedByBackupPlan(plans []plan, s Scope, add func(Finding)) {
	if len(plans) == 0 {
		add(noPlans("a backup plan selecting " + s.items()[0].String()))
		return
	}
	for _, it := range s.items() {
		if slices.ContainsFunc(plans, func(p plan) bool {
			return slices.ContainsFunc(p.sels, func(sel selection) bool { return sel.selects(it) })
		}) {
			continue
		}
		add(Finding{Path: "plans", Expected: "a selection covering " + it.String(), Actual: "no selection of any plan covers them",
			Message: fmt.Sprintf("no backup plan selects %s: they are not protected by a backup plan", it)})
	}
}

func noPlans(expected string) Finding {
	return Finding{Path: "plans", Expected: expected, Actual: "no backup plans",
		Message: "the effective policy has no backup plans, so no resource is protected"}
}

// copyTest decides whether a copy action's destination counts for a
// cross-Region or cross-account control.
type copyTest struct {
	want string // what a qualifying copy looks like
	ok   func(p plan, dest arn.ARN) bool
}

// protectedByCrossRegion: "Evaluates if a resource is configured to
// create copies of its backups to another AWS Region" (AWS Backup
// Developer Guide, "Choosing your controls"); with crossRegionList, to one
// of those Regions. An organization backup plan runs in every Region of
// its regions, so each Region is checked on its own: its backups need a
// copy to a vault in another Region (and, with the list, a listed one).
// A copy to the source's own Region is not cross-Region, nor is one to
// $region, which is always the plan's own. Without the resources, a copy in
// any plan in scope is taken to protect them, as for cross-account.
//
// deployed, when not nil, are the Regions whose framework has the control:
// only backups made there are checked (a framework evaluates the
// resources of its own Region; the solution leaves the control out in the
// Region the copies go to).
func protectedByCrossRegion(plans []plan, s Scope, add func(Finding), list, deployed []string) {
	want := "a copy to a vault in another Region"
	if len(list) > 0 {
		want = "a copy to a vault in " + strings.Join(list, " or ")
	}
	if len(plans) == 0 {
		add(noPlans(want))
		return
	}
	covered := map[string]bool{}
	var regions, seen []string
	inScope := 0
	for _, p := range plans {
		if scoped(s) && !p.inScope(s) {
			continue
		}
		inScope++
		for _, region := range p.regions {
			if deployed != nil && !slices.Contains(deployed, region) {
				continue
			}
			if !slices.Contains(regions, region) {
				regions = append(regions, region)
			}
			for _, r := range p.rules {
				for _, c := range r.copies {
					dest, err := arn.Parse(c.vault)
					if err == nil && literal(dest.Region) && dest.Region != region &&
						(len(list) == 0 || slices.Contains(list, dest.Region)) {
						covered[region] = true
					}
				}
			}
		}
		for _, r := range p.rules {
			for _, c := range r.copies {
				seen = append(seen, c.vault)
			}
		}
	}
	var uncovered []string
	for _, region := range regions {
		if !covered[region] {
			uncovered = append(uncovered, region)
		}
	}
	actual := "no copy actions"
	switch {
	case inScope == 0:
		actual = "no plan selects " + s.items()[0].String()
	case len(regions) == 0 && deployed != nil:
		return // no plan runs where the control is deployed
	case len(regions) == 0:
		actual = "the plans name no Regions"
	case len(uncovered) == 0:
		return
	case len(seen) > 0:
		slices.Sort(seen)
		actual = "copies only to " + strings.Join(slices.Compact(seen), ", ")
	}
	where := ""
	if len(uncovered) > 0 {
		where = " made in " + strings.Join(uncovered, ", ")
	}
	add(Finding{Path: "plans", Expected: want, Actual: actual,
		Message: fmt.Sprintf("no rule copies backups of %s%s as required: %s", s.items()[0].String(), where, actual)})
}

// crossAccount: "Evaluates if a resource has a cross-account backup copy
// configured" (AWS Backup Developer Guide, "Choosing your controls"); with
// crossAccountList, to one of those accounts. $account is the account the
// plan runs in (AWS Organizations User Guide, "Backup policy syntax and
// examples": copy_actions), never another one; nor is the target itself.
func crossAccount(target string, accounts []string) copyTest {
	other := func(dest arn.ARN) bool { return literal(dest.AccountID) && dest.AccountID != target }
	if len(accounts) == 0 {
		return copyTest{want: "a copy to a vault in another account", ok: func(_ plan, dest arn.ARN) bool { return other(dest) }}
	}
	return copyTest{want: "a copy to a vault in account " + strings.Join(accounts, " or "), ok: func(_ plan, dest arn.ARN) bool {
		return other(dest) && slices.Contains(accounts, dest.AccountID)
	}}
}

func literal(s string) bool { return s != "" && !strings.Contains(s, "$") }

// protectedByCopy checks the cross-account control:
// some rule of a plan selecting the scope's resources copies to a
// qualifying vault. Without the resources, a copy in any such plan is
// taken to protect them, rather than reporting plans whose resources
// another plan may copy.
func protectedByCopy(plans []plan, s Scope, add func(Finding), test copyTest) {
	if len(plans) == 0 {
		add(noPlans(test.want))
		return
	}
	var seen []string
	inScope := 0
	for _, p := range plans {
		if scoped(s) && !p.inScope(s) {
			continue
		}
		inScope++
		for _, r := range p.rules {
			for _, c := range r.copies {
				dest, err := arn.Parse(c.vault)
				if err == nil && test.ok(p, dest) {
					return
				}
				seen = append(seen, c.vault)
			}
		}
	}
	actual := "no copy actions"
	switch {
	case inScope == 0:
		actual = "no plan selects " + s.items()[0].String()
	case len(seen) > 0:
		slices.Sort(seen)
		actual = "copies only to " + strings.Join(slices.Compact(seen), ", ")
	}
	add(Finding{Path: "plans", Expected: test.want, Actual: actual,
		Message: fmt.Sprintf("no rule copies backups of %s as required: %s", s.items()[0].String(), actual)})
}

func retentionText(r retention) string {
	if r.err != nil {
		return r.err.Error()
	}
	if r.forever() {
		return "kept until deleted"
	}
	return plural(r.days, "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	if strings.HasSuffix(unit, "y") && !strings.HasSuffix(unit, "ay") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(unit, "y"))
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// duration writes d in days, hours and minutes: "3 days", "1 day 12 hours".
func duration(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	minutes := int(d % time.Hour / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, plural(days, "day"))
	}
	if hours > 0 {
		parts = append(parts, plural(hours, "hour"))
	}
	if minutes > 0 || len(parts) == 0 {
		parts = append(parts, plural(minutes, "minute"))
	}
	return strings.Join(parts, " ")
}
