"""In the browser: a developer reads the API documentation offline. Swagger UI and ReDoc load
their scripts, styles and schema from the project (nothing from a CDN), at both window sizes;
ReDoc's sidebar logo, which it always asks of its CDN, is refused by the docs' policy."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from .browser import BrowserTestCase

SIZES = ((1440, 900), (1024, 768))


class DeveloperFlows(BrowserTestCase):
    def resources(self) -> list[tuple[str, str]]:
        """What the page has asked for besides itself: (what asked, address)."""
        return self.browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => [e.initiatorType, e.name])"
        )

    def assert_served_by_the_project(self) -> None:
        asked = self.resources()
        code = [url for kind, url in asked if kind not in ("img", "other")]
        assert code, "the page loaded no scripts, styles or schema"
        elsewhere = [url for url in code if not url.startswith(self.live_server_url)]
        assert elsewhere == [], f"loaded from outside the project: {elsewhere}"
        images = [url for kind, url in asked if kind == "img"]
        if any(not url.startswith(self.live_server_url) for url in images):
            policy = self.client.get("/api/schema/redoc/")["Content-Security-Policy"]
            assert "img-src 'self' data:;" in policy  # asked for, and refused by the browser

    def test_swagger_ui_shows_the_operations_offline(self):
        for width, height in SIZES:
            self.browser.set_window_size(width, height)
            self.open("/api/schema/ui/")
            self.wait_for(By.CSS_SELECTOR, ".opblock")
            paths = {
                e.text for e in self.browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
            }
            assert "/api/v1/predictions/" in paths, sorted(paths)
            self.assert_served_by_the_project()
            self.screenshot(f"developer-swagger-{width}.png", width=width, height=height)

    def test_redoc_shows_the_operations_offline(self):
        for width, height in SIZES:
            self.browser.set_window_size(width, height)
            self.open("/api/schema/redoc/")
            self.wait_for(By.CSS_SELECTOR, "[data-section-id^='operation']")
            assert "Attest API" in self.text()
            assert "drf-spectacular" not in self.text()  # the template's comment stays hidden
            self.assert_served_by_the_project()
            self.screenshot(f"developer-redoc-{width}.png", width=width, height=height)
