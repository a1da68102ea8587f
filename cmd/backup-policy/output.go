package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

// finding is one object of the --format json output (the schema the
// README and --help document).
type finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Resource string `json:"resource,omitempty"`
	Path     string `json:"path"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	// check only.
	Account    string `json:"account,omitempty"`
	Plan       string `json:"plan,omitempty"`
	BackupRule string `json:"backup_rule,omitempty"`
	Control    string `json:"control,omitempty"`
	Expected   string `json:"expected,omitempty"`
	Actual     string `json:"actual,omitempty"`
}

type skipped struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Resource string `json:"resource"`
	Type     string `json:"type"`
	Reason   string `json:"reason"`
}

// report is the --format json document of validate and check.
type report struct {
	Findings []finding `json:"findings"`
	Skipped  []skipped `json:"skipped"`
	// NotEvaluated lists controls an offline check cannot evaluate (check).
	NotEvaluated []string `json:"not_evaluated,omitempty"`
	Errors       int      `json:"errors"`
	Warnings     int      `json:"warnings"`
}

const jsonSchemaHelp = `
--format json prints one JSON object:
  {"findings": [FINDING...], "skipped": [{"file", "line", "resource", "type", "reason"}...],
   "errors": N, "warnings": N}
FINDING is {"file", "line", "column", "resource", "path", "rule", "severity", "message"}:
line and column are 1-based (0 when the problem has no position), resource
the template's logical ID (absent for a JSON policy file), path the JSON
path in the policy, rule a stable identifier, severity "error" or "warning".
`

func fromProblem(p policysource.Problem) finding {
	return finding{File: p.File, Line: p.Line, Column: p.Column, Resource: p.Resource, Path: p.Path, Rule: p.Rule, Severity: p.Severity.String(), Message: p.Message}
}

func fromSkipped(s policysource.Skipped) skipped {
	return skipped{File: s.File, Line: s.Line, Resource: s.Resource, Type: s.ResourceType, Reason: s.Reason}
}

func (r *report) add(f finding) {
	r.Findings = append(r.Findings, f)
	if f.Severity == backuppolicy.SeverityWarning.String() {
		r.Warnings++
	} else {
		r.Errors++
	}
}

// exit is the status a report ends with.
func (r *report) exit(strict bool) int {
	if r.Errors > 0 || (strict && r.Warnings > 0) {
		return exitFindings
	}
	return exitClean
}

func (r *report) writeJSON(w io.Writer) error {
	if r.Findings == nil {
		r.Findings = []finding{}
	}
	if r.Skipped == nil {
		r.Skipped = []skipped{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

func location(f finding) string {
	s := f.File
	if f.Line > 0 {
		s += fmt.Sprintf(":%d:%d", f.Line, f.Column)
	}
	return s
}

// colour codes for severities; every cell of a column gets codes of the
// same length, so tabwriter's alignment holds.
func (c *cli) paint(severity string) string {
	if !c.color {
		return severity
	}
	code := "31" // red
	if severity == "warning" {
		code = "33" // yellow
	}
	return "\x1b[" + code + "m" + severity + "\x1b[0m"
}

// writeFindings prints the validation findings as an aligned table.
func (c *cli) writeFindings(w io.Writer, r *report) {
	if len(r.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOCATION\tSEVERITY\tRULE\tPATH\tMESSAGE")
		for _, f := range r.Findings {
			path := f.Path
			if f.Resource != "" {
				path = f.Resource + ": " + path
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", location(f), c.paint(f.Severity), f.Rule, dash(path), f.Message)
		}
		tw.Flush()
	}
	c.writeSkipped(w, r)
}

func (c *cli) writeSkipped(w io.Writer, r *report) {
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped %s:%d: %s (%s): %s\n", s.File, s.Line, s.Resource, s.Type, s.Reason)
	}
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func policyCount(n int) string {
	if n == 1 {
		return "1 policy"
	}
	return fmt.Sprintf("%d policies", n)
}
