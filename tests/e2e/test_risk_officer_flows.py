"""In the browser: the risk officer's dashboard, following a failing check to its report, a
model's page, and acknowledging an alert. Saves screenshots of both pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone
from PIL import Image
from selenium.webdriver.common.by import By

from audit.ingest import ingest_predictions
from audit.ledger import raise_alert
from audit.models import Alert
from audit.sequencer import seal_all
from compliance import workflow
from compliance.choices import EUAIActCategory, RiskTier, Role, Severity
from compliance.models import AIModel, MonitoringReport
from tests.audit.conftest import prediction
from tests.compliance.test_dashboard import BREACH, report
from tests.compliance.test_workflow_support import deployed, in_validation, new_version
from tests.conftest import credit_scoring, make_user

from .browser import BrowserTestCase


class RiskOfficerFlows(BrowserTestCase):
    def setUp(self) -> None:
        """Credit scoring with a month of traffic, sealed and verified; its champion's latest
        report fails the four-fifths rule; a retrain waits in validation with a finding."""
        self.risk_officer = make_user("rita", Role.RISK_OFFICER)
        developer = make_user("devon", Role.DEVELOPER)
        validators = make_user("victor", Role.VALIDATOR), make_user("valerie", Role.VALIDATOR)
        self.model = credit_scoring(self.risk_officer, developer, monthly_cost=Decimal("1850.00"))
        AIModel.objects.create(
            name="Support chatbot",
            slug="chatbot",
            risk_tier=RiskTier.LOW,
            eu_ai_act_category=EUAIActCategory.LIMITED,
        )
        champion = new_version(self.model, developer, "1.0.0")
        deployed(champion, developer, self.risk_officer, *validators)
        retrain = in_validation(
            new_version(self.model, developer, "1.1.0"), developer, validators[0]
        )
        workflow.record_finding(
            retrain,
            validators[0],
            title="Approval rate of women falls",
            description="0.62.",
            severity=Severity.HIGH,
            owner=developer,
            due_date=timezone.localdate(),
        )
        now = timezone.now()
        items = [
            prediction(decided_at=(now - dt.timedelta(days=day, minutes=n)).isoformat())
            for day in range(30)
            for n in range(12 + (day * 7) % 19)
        ]
        ingest_predictions(items)
        seal_all()
        call_command("verify_ledger", verbosity=0)
        report(champion)
        self.failing = report(champion, BREACH)
        self.alert = raise_alert(
            Alert.Kind.FAIRNESS_BREACH, model=self.model, subject="sex=F", message=BREACH["message"]
        )

    def test_a_risk_officer_follows_a_failing_check_to_its_report(self):
        self.log_in("rita")
        self.wait_for(By.ID, "dashboard")
        self.assertIn("Risk dashboard", self.text())
        self.check_screenshot(self.screenshot("dashboard.png"))
        figure = self.browser.find_element(
            By.XPATH, "//li[span='Failing fairness checks']/a[contains(@class, 'attest-figure')]"
        )
        self.assertEqual(figure.text, "1")
        figure.click()
        self.assertIn("1 monitoring report", self.text())
        self.browser.find_element(By.CSS_SELECTOR, "#result_list tbody a").click()
        self.assertIn(BREACH["message"], self.text())
        self.assertIn(f"/monitoringreport/{self.failing.pk}/", self.browser.current_url)

    def test_the_model_page_answers_the_readiness_questions(self):
        self.log_in("rita")
        self.click_link("Retail credit scoring")  # from the volume chart
        self.wait_for(By.ID, "model-page")
        self.assertIn("Production readiness:", self.text())
        self.assertEqual(len(self.browser.find_elements(By.CSS_SELECTOR, "#scorecard tr")), 10)
        cost = self.browser.find_element(By.ID, "readiness-cost")
        self.assertTrue(cost.text.startswith("yes") and "1,850.00 a month." in cost.text)
        self.assertIn("deployment.deployed", self.text())
        self.check_screenshot(self.screenshot("model-page.png"))
        # A gap links to where it would be filled.
        self.browser.find_element(By.CSS_SELECTOR, "#readiness-docs a").click()
        self.assertIn("/admin/modelcards/issueddocument/", self.browser.current_url)

    def test_a_risk_officer_acknowledges_an_alert(self):
        self.log_in("rita")
        row = f"a[href$='/alert/{self.alert.pk}/act/acknowledge/']"
        self.browser.find_element(By.CSS_SELECTOR, f"#alerts {row}").click()
        self.browser.find_element(By.NAME, "reason").send_keys("Retrain 1.1.0 is in validation.")
        self.submit()
        self.assertIn("Acknowledge: ", self.messages("success")[0])
        self.alert.refresh_from_db()
        self.assertEqual(self.alert.acknowledged_by, self.risk_officer)
        self.assertEqual(self.alert.acknowledgement, "Retrain 1.1.0 is in validation.")
        self.open("/admin/")
        self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, f"#alerts {row}"), [])
        self.assertEqual(MonitoringReport.objects.count(), 2)

    def check_screenshot(self, path) -> None:
        with Image.open(path) as image:
            width, height = image.size
        self.assertEqual(width, 1400)
        self.assertGreater(height, 700)
