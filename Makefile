# The two set-up commands of README.md. Both install what is missing first
# (scripts/setup.sh, idempotent) and then do their job.
.PHONY: run test setup build

# Arguments for `occd serve`, e.g. make run ARGS="-c occd.toml".
ARGS ?=

run:
	@scripts/setup.sh
	cargo build --release
	./target/release/occd serve $(ARGS)

test:
	@scripts/setup.sh --test
	@scripts/test.sh

build:
	@scripts/setup.sh
	cargo build --release
