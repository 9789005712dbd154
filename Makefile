# The two commands of the README:
#   make demo   install negah and open the demo dashboard on the sample business
#   make test   install negah with its test tools and run the whole test suite
.PHONY: demo test install dev bench lint

install:
	scripts/bootstrap.sh runtime

dev:
	scripts/bootstrap.sh dev

demo: install
	.venv/bin/negah demo

test: dev
	.venv/bin/python -m pytest $(PYTEST_ARGS)

lint: dev
	.venv/bin/lint-imports

bench: dev
	.venv/bin/python bench/import.py
