# Backup-as-code for AWS Organizations. `make` or `make help` lists the targets;
# every target with a `## ` comment on its line is listed there.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# No "Entering directory" lines from sub-makes (nor from the make sam build runs).
MAKEFLAGS     += --no-print-directory

GO            ?= go
TOOLS         := $(CURDIR)/.tools
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(TOOLS)/bin/golangci-lint-$(GOLANGCI_LINT_VERSION)
FUNCTIONS     := backup-org-policy-manager tag-reapplier policy-drift-check
# The Lambda build flags, for `make build`, `sam build`, `make local` and the
# tests' builds (internal/runtimeapi reads this line: plain words and double
# quotes only).
LAMBDA_FLAGS  := -tags lambda.norpc -trimpath -ldflags "-s -w"
FUZZTIME      ?= 30s

.PHONY: help test policy-check unit fmt-check vet lint lint-workflows tools check-templates toolchain-selftest build build-BackupOrgPolicyManagerFunction build-TagReapplierFunction build-PolicyDriftCheckFunction local demo deploy bench fuzz clean distclean

help: ## list the targets
	@echo "Usage: make TARGET [VARIABLE=value]"
	@echo
	@awk -F ':.*## ' '/^[a-zA-Z_-]+:.*## / { printf "  %-19s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: ENV=<samconfig environment> (deploy, default: default), EVENT=<file> (demo: one event),"
	@echo "           FUZZTIME=<duration> (fuzz, default $(FUZZTIME)), POLICY_CHECK_PARAMS (policy-check)"

# The Python tools install (network and disk, mostly) while the Go tests use
# the CPUs; --output-sync keeps each target's output together.
test: fmt-check vet lint lint-workflows ## formatting, vet, lint, every test, the IAM check and the AWS toolchain checks (what CI runs)
	$(MAKE) -j4 --output-sync=target unit $(TOOL_STAMPS)
	$(MAKE) check-templates policy-check

# The deployment's effective backup policies (org.yaml, the policies of
# cfn/org-policies.yaml) against the controls of cfn/audit-framework.yaml.
# The values are those the templates read from SSM and StackSet parameters
# at deploy time; set POLICY_CHECK_PARAMS to your organization's.
POLICY_CHECK_PARAMS ?= \
  --parameter TargetOuIds=ou-a1b2-prod0001 --parameter TargetRegions=us-east-1,eu-west-1 \
  --parameter CentralVaultArn=arn:aws:backup:us-west-2:999999999999:backup-vault:central-backup-vault \
  --parameter OrganizationId=o-a1b2c3d4e5 --parameter CrossRegionList=us-west-2 \
  --parameter CrossAccountList=999999999999

policy-check: ## every account's effective backup policy (org.yaml) against cfn/audit-framework.yaml
	$(GO) run ./cmd/backup-policy check --org org.yaml --framework cfn/audit-framework.yaml $(POLICY_CHECK_PARAMS)

# The end-to-end tests build the function binaries with the local flags; the
# local build first fills the build cache, so those builds only link.
# Every emulated AWS call of the suite is logged; then the IAM check compares
# the actions the code called with what template.yaml grants.
CALL_LOG := $(CURDIR)/bin/aws-calls.jsonl

unit: local ## go test -race ./... with every emulated AWS call logged, then the IAM check
	rm -f $(CALL_LOG)
	@echo "TestIAMMatchesCode and TestSAMBuildOutput skip in this run: they need its call log and a sam build, and run next and in check-templates."
	AWSEMU_CALL_LOG=$(CALL_LOG) $(GO) test -race -count=1 ./...
	IAM_CALL_LOG=$(CALL_LOG) $(GO) test -count=1 -run '^TestIAMMatchesCode$$' -v ./internal/cfntemplate/

fmt-check: ## fail on unformatted Go files
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

vet: ## go vet ./...
	$(GO) vet ./...

# --- The AWS toolchain: SAM CLI, cfn-lint, checkov --------------------------------
# Each in its own virtual environment (the SAM CLI pins a cfn-lint of its own),
# installed from the fully pinned lists in tools/. cfn-lint stays at 1.51.x:
# later releases fetch schemas at run time, which fails offline.
PYTHON    ?= python3
VENV      := $(CURDIR)/.venv
SAM       := $(VENV)/sam/bin/sam
CFN_LINT  := $(VENV)/cfn-lint/bin/cfn-lint
CHECKOV   := $(VENV)/checkov/bin/checkov
TEMPLATES := template.yaml $(sort $(wildcard cfn/*.yaml))
export SAM_CLI_TELEMETRY := 0

$(VENV)/%/.installed: tools/%.txt
	rm -rf $(VENV)/$*
	$(PYTHON) -m venv $(VENV)/$*
	$(VENV)/$*/bin/pip install --quiet --disable-pip-version-check --no-input -r $<
	touch $@

TOOL_STAMPS := $(VENV)/sam/.installed $(VENV)/cfn-lint/.installed $(VENV)/checkov/.installed

# The three install in parallel under make -j (make test runs them so).
tools: $(TOOL_STAMPS) ## install the pinned SAM CLI, cfn-lint and checkov into .venv/

# What the pipeline's validate stage runs too. cfn-lint reports informational
# notes too (I3011: a stateful resource without an explicit DeletionPolicy),
# so they fail the check like errors and warnings. sam build compiles with the
# Makefile's build-<LogicalId> targets into a scratch directory, and a Go test
# checks each bootstrap is a static linux/arm64 executable.
SAM_BUILD_DIR := $(CURDIR)/bin/sam-build

# sam build ends with a "Commands you can use next" block; the Makefile's
# targets are the commands here, so it is left out.
SAM_QUIET := awk '/^Commands you can use next/ { skip = 1 } !skip { print; fflush() }'

check-templates: tools toolchain-selftest ## sam validate --lint, sam build, cfn-lint and checkov of every template
	$(SAM) validate --lint --template template.yaml --region us-east-1
	rm -rf $(SAM_BUILD_DIR)
	$(SAM) build --template template.yaml --build-dir $(SAM_BUILD_DIR) --build-in-source | $(SAM_QUIET)
	SAM_BUILD_DIR=$(SAM_BUILD_DIR) $(GO) test -count=1 -run '^TestSAMBuildOutput$$' ./internal/cfntemplate/
	$(CFN_LINT) --include-checks I -- $(TEMPLATES)
	$(CHECKOV) --framework cloudformation --skip-download --compact --quiet $(addprefix -f ,$(TEMPLATES))

# Each tool must reject its seeded bad fixtures, with the rules that prove it
# looked: otherwise a silent tool would pass every template. cfn-lint, with
# check-templates' flags, must report exactly the findings (rule and line) each
# tools/fixtures/cfn-lint-*.yaml lists in its "# expect RULE LINE" comments,
# and nothing on the template they differ from (CFN_LINT_ACCEPTS).
CFN_LINT_ACCEPTS := internal/cfntemplate/testdata/good.yaml

toolchain-selftest: tools ## each tool must reject its seeded bad fixtures
	@out=$$($(CFN_LINT) --include-checks I -- $(CFN_LINT_ACCEPTS) 2>&1) || { echo "cfn-lint rejects $(CFN_LINT_ACCEPTS):"; echo "$$out"; exit 1; }; \
	  echo "cfn-lint accepts $(CFN_LINT_ACCEPTS)"
	@for f in tools/fixtures/cfn-lint-*.yaml; do \
	  want=$$(sed -n 's/^# expect //p' $$f | sort); \
	  [ -n "$$want" ] || { echo "$$f lists no expected findings"; exit 1; }; \
	  got=$$($(CFN_LINT) --include-checks I --format parseable -- $$f 2>&1 | awk -F: '{print $$6, $$2}' | sort) && { echo "cfn-lint accepted $$f"; exit 1; }; \
	  [ "$$got" = "$$want" ] || { echo "cfn-lint on $$f reported (rule line):"; echo "$$got"; echo "want:"; echo "$$want"; exit 1; }; \
	  echo "cfn-lint rejects $$f ("$$(cut -d' ' -f1 <<<"$$want" | sort -u | paste -sd' ')")"; \
	done
	@out=$$($(CHECKOV) --framework cloudformation --skip-download --compact --quiet -f tools/fixtures/checkov-insecure.yaml 2>&1) && { echo "checkov accepted an unencrypted queue and a wildcard policy"; exit 1; }; \
	  for id in CKV_AWS_27 CKV_AWS_63; do grep -q $$id <<<"$$out" || { echo "checkov failed without $$id:"; echo "$$out"; exit 1; }; done; \
	  echo "checkov rejects tools/fixtures/checkov-insecure.yaml (CKV_AWS_27, CKV_AWS_63)"
	@out=$$($(SAM) validate --template tools/fixtures/sam-broken-property.yaml --region us-east-1 2>&1) && { echo "sam validate accepted a DeploymentPreference without AutoPublishAlias"; exit 1; }; \
	  grep -q "requires AutoPublishAlias" <<<"$$out" || { echo "sam validate failed for another reason:"; echo "$$out"; exit 1; }; \
	  echo "sam validate rejects tools/fixtures/sam-broken-property.yaml (DeploymentPreference without AutoPublishAlias)"

$(GOLANGCI_LINT):
	mkdir -p $(TOOLS)/bin
	GOBIN=$(TOOLS)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS)/bin/golangci-lint $@

lint: $(GOLANGCI_LINT) ## golangci-lint (installed at a pinned version into .tools/)
	$(GOLANGCI_LINT) run ./...

# The GitHub Actions workflows: syntax, expressions, action inputs and, when
# shellcheck is installed, their run scripts.
ACTIONLINT_VERSION := v1.7.7

lint-workflows: ## actionlint of the GitHub workflows
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

# The Lambda build: provided.al2023 on arm64 runs a static binary named
# bootstrap; lambda.norpc drops the go1.x RPC entry point. `sam build` calls
# build-<LogicalId> (BuildMethod: makefile) with ARTIFACTS_DIR set; `make
# build` calls the same targets, so both build exactly the same binaries.
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)

build-BackupOrgPolicyManagerFunction:
	$(call LAMBDA_BUILD,backup-org-policy-manager)

build-TagReapplierFunction:
	$(call LAMBDA_BUILD,tag-reapplier)

build-PolicyDriftCheckFunction:
	$(call LAMBDA_BUILD,policy-drift-check)

build: ## the Lambda binaries (static linux/arm64) into bin/lambda/
	$(MAKE) build-BackupOrgPolicyManagerFunction ARTIFACTS_DIR=$(CURDIR)/bin/lambda/backup-org-policy-manager
	$(MAKE) build-TagReapplierFunction ARTIFACTS_DIR=$(CURDIR)/bin/lambda/tag-reapplier
	$(MAKE) build-PolicyDriftCheckFunction ARTIFACTS_DIR=$(CURDIR)/bin/lambda/policy-drift-check

# Binaries for this machine, run under a local Lambda Runtime API by the demo
# and the end-to-end tests (internal/runtimeapi.Build reads LAMBDA_FLAGS from
# this file, so all three builds share one definition).
local: $(addprefix bin/local/,$(addsuffix /bootstrap,$(FUNCTIONS))) ## the function binaries for this machine, into bin/local/

bin/local/%/bootstrap: FORCE
	CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

demo: local ## play events/ through the real functions against an emulated organization (EVENT=file: one event)
	$(GO) build -o bin/local/backup-policy ./cmd/backup-policy
	$(GO) run ./cmd/demo -bootstrap bin/local/backup-org-policy-manager/bootstrap -reapplier bin/local/tag-reapplier/bootstrap -cli bin/local/backup-policy -events events $(if $(EVENT),-event $(EVENT))

bench: ## benchmarks against the emulator
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: ## each fuzz target for FUZZTIME
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# ENV picks the samconfig.toml environment: default or prod.
ENV ?= default

deploy: tools ## sam build and sam deploy with the pinned SAM CLI and samconfig.toml (ENV=prod for prod)
	$(SAM) build --config-env $(ENV) | $(SAM_QUIET)
	$(SAM) deploy --config-env $(ENV)

clean: ## remove what the build made: bin/, .aws-sam/, .tools/ (golangci-lint)
	rm -rf bin .aws-sam .tools

distclean: clean ## also remove the Python tool environments (.venv/)
	rm -rf .venv

FORCE:
