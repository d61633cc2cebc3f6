"""The base of the browser tests: a live server and headless Chromium driven by Selenium.

Debian's ``chromium`` and ``chromium-driver`` (``make browser``; ``make test`` installs them
when missing). Each test case empties the tables when it ends, as Django's live-server tests
do; the ledger's append-only triggers refuse that, so they are switched off for the flush
only, as for the suite's other transactional tests (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.db import connections
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import _append_only_triggers

# Selenium would report usage statistics to an outside host; nothing but localhost is contacted.
os.environ["SE_AVOID_STATS"] = "true"

PASSWORD = "correct horse battery staple"
# Each run's screenshots; `make screenshots` writes the README's into docs/.
SCREENSHOTS = Path(
    os.environ.get("ATTEST_SCREENSHOTS") or Path(settings.BASE_DIR) / "var" / "screenshots"
)
WAIT = 120  # seconds a page may take (an evidence pack renders four PDFs in the request)


class BrowserTestCase(StaticLiveServerTestCase):
    serialized_rollback = True  # the roles (groups) the migrations created come back after

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.downloads = Path(tempfile.mkdtemp(prefix="attest-downloads-"))
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            # No call home: updates, sync, field trials and QUIC probes all reach for the network.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--window-size=1400,1000",
            "--lang=en-GB",
        ):
            options.add_argument(argument)
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(cls.downloads),
                "download.prompt_for_download": False,
            },
        )
        driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        cls.browser = webdriver.Chrome(options=options, service=Service(driver))
        cls.browser.implicitly_wait(2)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.quit()
        shutil.rmtree(cls.downloads, ignore_errors=True)
        super().tearDownClass()

    def _fixture_teardown(self) -> None:
        connection = connections["default"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
            try:
                super()._fixture_teardown()
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = DEFAULT")
        else:
            _append_only_triggers(create=False)
            try:
                super()._fixture_teardown()
            finally:
                _append_only_triggers(create=True)

    # ------------------------------------------------------------------ what people do

    def open(self, path: str) -> None:
        self.browser.get(self.live_server_url + path)

    def log_in(self, username: str) -> None:
        self.browser.delete_all_cookies()
        self.open("/admin/login/?next=/admin/")
        self.browser.find_element(By.NAME, "username").send_keys(username)
        self.browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        self.wait_for(By.ID, "user-tools")

    def wait_for(self, by: str, what: str):
        return WebDriverWait(self.browser, WAIT).until(
            expected_conditions.presence_of_element_located((by, what))
        )

    def click_link(self, text: str) -> None:
        self.browser.find_element(By.LINK_TEXT, text).click()

    def steps(self) -> list[str]:
        """The workflow steps the page offers (buttons at its top right)."""
        links = self.browser.find_elements(By.CSS_SELECTOR, ".object-tools a[href*='/act/']")
        return [link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1] for link in links]

    def click_step(self, step: str) -> None:
        self.browser.find_element(By.CSS_SELECTOR, f".object-tools a[href$='/act/{step}/']").click()

    def submit(self) -> None:
        self.browser.find_element(By.CSS_SELECTOR, "#content-main input[type=submit]").click()

    def messages(self, level: str = "") -> list[str]:
        selector = f"ul.messagelist li{'.' + level if level else ''}"
        return [e.text for e in self.browser.find_elements(By.CSS_SELECTOR, selector)]

    def text(self) -> str:
        return self.browser.find_element(By.TAG_NAME, "body").text

    def screenshot(self, name: str, width: int = 1400, height: int = 1000) -> Path:
        """The whole page as a PNG in SCREENSHOTS, ``width`` wide; the window is left at
        ``width`` × ``height``."""
        page = self.browser.execute_script("return document.documentElement.scrollHeight")
        self.browser.set_window_size(width, max(page, 800))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.browser.save_screenshot(str(path))
        self.browser.set_window_size(width, height)
        return path
