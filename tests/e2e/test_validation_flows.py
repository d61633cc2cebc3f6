"""In the browser: a validator works their queue, a developer's own approval is refused, and an
auditor takes an evidence pack away without being able to change anything."""

from __future__ import annotations

import zipfile

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from compliance import workflow
from compliance.choices import EUAIActCategory, RiskTier, Role, VersionState
from compliance.models import AIModel, ModelVersion
from tests.compliance.test_workflow_support import (
    SATISFACTORY,
    deployed,
    developer_validator,
    new_version,
)
from tests.conftest import make_user

from .browser import WAIT, BrowserTestCase


class ValidationFlows(BrowserTestCase):
    def setUp(self) -> None:
        self.developer = make_user("devon", Role.DEVELOPER)
        self.validator = make_user("victor", Role.VALIDATOR)
        self.risk_officer = make_user("rita", Role.RISK_OFFICER)
        self.model = AIModel.objects.create(
            name="Marketing propensity",
            slug="propensity",
            risk_tier=RiskTier.LOW,
            eu_ai_act_category=EUAIActCategory.MINIMAL,
            business_owner=self.risk_officer,
        )
        self.model.developing_team.add(self.developer)

    def test_a_validator_approves_a_version_from_their_queue(self):
        version = new_version(self.model, self.developer, "2.0.0")
        workflow.submit_version(version, self.developer, "Ready for validation.")
        self.log_in("victor")
        self.open("/admin/compliance/validationqueue/")
        self.click_link("propensity 2.0.0")
        self.click_step("start-validation")
        self.submit()
        self.assertIn("Start validation: propensity 2.0.0.", self.messages("success"))
        self.click_step("review")
        for name, value in SATISFACTORY.items():
            field = self.browser.find_element(By.NAME, name)
            if name.endswith("_conclusion"):
                Select(field).select_by_value(value)
            else:
                field.send_keys(value)
        self.submit()
        self.click_step("approve")
        self.browser.find_element(By.NAME, "reason").send_keys("Fit for purpose.")
        self.submit()
        self.assertIn("Approve: propensity 2.0.0.", self.messages("success"))
        version.refresh_from_db()
        self.assertEqual(version.state, VersionState.APPROVED)
        self.open("/admin/compliance/validationqueue/")
        self.assertNotIn("propensity 2.0.0", self.text())  # decided: off the queue

    def test_a_developer_cannot_approve_their_own_version(self):
        dora = developer_validator("dora")  # a developer who is also a validator
        self.model.developing_team.add(dora)
        version = new_version(self.model, dora, "2.1.0")
        workflow.submit_version(version, dora, "Mine.")
        workflow.start_validation(version, self.validator)
        self.log_in("dora")
        self.open(f"/admin/compliance/modelversion/{version.pk}/change/")
        self.click_step("approve")
        self.submit()
        (refusal,) = self.messages("error")
        self.assertIn("Approve refused for propensity 2.1.0: Segregation of duties", refusal)
        self.assertIn("dora registered propensity 2.1.0", refusal)
        version.refresh_from_db()
        self.assertEqual(version.state, VersionState.IN_VALIDATION)
        # A developer alone is not offered the step at all.
        self.log_in("devon")
        self.open(f"/admin/compliance/modelversion/{version.pk}/change/")
        self.assertEqual(self.steps(), [])

    def test_an_auditor_downloads_an_evidence_pack_and_cannot_change_anything(self):
        valerie = make_user("valerie", Role.VALIDATOR)
        version = new_version(self.model, self.developer, "1.0.0")
        deployed(version, self.developer, self.risk_officer, self.validator, valerie)
        make_user("audrey", Role.AUDITOR)
        self.log_in("audrey")
        self.open("/admin/modelcards/issueddocument/generate/propensity/")
        self.browser.find_element(By.CSS_SELECTOR, "button[value=evidence_pack]").click()
        self.wait_for(By.CSS_SELECTOR, "a[href$='/download/']").click()
        pack = self.downloaded(".zip")
        with zipfile.ZipFile(pack) as archive:
            names = archive.namelist()
        self.assertTrue(any(n.endswith(".pdf") for n in names), names)
        self.assertIn("MANIFEST.sha256", [n.rsplit("/", 1)[-1] for n in names])
        # Read-only everywhere: no save button, no workflow step, no add link.
        self.open(f"/admin/compliance/aimodel/{self.model.pk}/change/")
        self.assertEqual(self.browser.find_elements(By.NAME, "_save"), [])
        self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "input[name=name]"), [])
        self.open(f"/admin/compliance/modelversion/{version.pk}/change/")
        self.assertEqual(self.steps(), [])
        self.assertEqual(self.browser.find_elements(By.NAME, "_save"), [])
        self.open("/admin/compliance/aimodel/add/")
        self.assertIn("403", self.browser.title + self.text())
        self.assertEqual(ModelVersion.objects.get(pk=version.pk).state, VersionState.APPROVED)

    def downloaded(self, suffix: str):
        """The file the browser saved (waits for the download to finish)."""
        from selenium.webdriver.support.wait import WebDriverWait

        def done(_):
            files = [p for p in self.downloads.iterdir() if p.name.endswith(suffix)]
            return files[0] if files else False

        return WebDriverWait(self.browser, WAIT, poll_frequency=0.2).until(done)
