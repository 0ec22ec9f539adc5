# spirelab's two entry points on a fresh machine:
#   make demo   build everything, then run the wrong-selector lab end to end
#   make test   build everything, then run every test (unit, integration, rules)
# Both install what they need: a Docker engine, SPIRE 1.13.3, spirelab's images.

CARGO_PROFILE ?= release
CARGO_FLAGS := $(if $(filter release,$(CARGO_PROFILE)),--release,)
BIN := $(or $(CARGO_TARGET_DIR),target)/$(CARGO_PROFILE)
SCENARIOS := $(wildcard scenarios/*.yaml)

.PHONY: demo test deps docker spire build images lint bench clean-labs

demo: deps
	$(BIN)/spirelab --lab demo run scenarios/wrong-selector.yaml

test: deps lint
	cargo test $(CARGO_FLAGS) --workspace --all-targets
	scripts/check-monitoring.sh
	$(BIN)/spirelab --lab ci-scenarios run --wrong-fixes $(SCENARIOS)

deps: docker spire build images

docker:
	scripts/install-docker.sh

spire:
	scripts/build-spire.sh >/dev/null

build:
	cargo build $(CARGO_FLAGS) --bins
	cp "$$(crates/clockshift/build-static.sh)" $(BIN)/clockshift

images: build spire docker
	$(BIN)/spirelab images build

lint:
	cargo fmt --all --check
	cargo clippy $(CARGO_FLAGS) --workspace --all-targets -- -D warnings

bench: deps
	scripts/bench.sh

clean-labs:
	for lab in demo ci-scenarios; do $(BIN)/spirelab --lab $$lab down; done
