# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install pdf-tools browser go-note demo test screenshots lint format serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) pdf-tools

# The documentation tests read PDFs back with pdftotext (poppler-utils); WeasyPrint subsets
# fonts with HarfBuzz's subsetter when it is there (a second faster per long document than its
# fontTools fallback). Install each only when it is missing (Debian/Ubuntu, root or sudo).
pdf-tools:
	@command -v pdftotext >/dev/null 2>&1 && \
	    { ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q libharfbuzz-subset || { \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    $$SUDO apt-get install -y -qq poppler-utils libharfbuzz-subset0 >/dev/null; }

# The browser tests (tests/e2e) drive Debian's headless Chromium through its chromedriver;
# installed only when missing, like the PDF tools.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

# The checkpoint notes are verified by Go's golang.org/x/mod/sumdb/note (tests/go), a signed-note
# implementation the project did not write, built offline from Debian's packaged sources;
# installed only when missing, like the browser.
go-note:
	@command -v go >/dev/null 2>&1 && test -d /usr/share/gocode/src/golang.org/x/mod/sumdb/note || { \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    $$SUDO apt-get install -y -qq golang-go golang-golang-x-mod-dev >/dev/null; }

demo: install
	HOST=$(HOST) PORT=$(PORT) bin/demo

test: install browser go-note
	SE_AVOID_STATS=true $(BIN)/pytest -n 2

# The README's screenshots, taken by the browser tests (each test run keeps its own in var/).
screenshots: install browser
	SE_AVOID_STATS=true ATTEST_SCREENSHOTS=docs $(BIN)/pytest -p no:xdist tests/e2e/test_risk_officer_flows.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var
