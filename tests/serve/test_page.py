"""The try-it page at `GET /` in a real headless Chromium (Debian's chromium and chromium-driver,
driven by selenium): `make test-browser` installs them and runs these tests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import build_tree
from tests.serve.conftest import Server

pytestmark = pytest.mark.browser

PAGE_MODEL = {
    "config.yaml": "model_name: page-demo\n",
    "model/__init__.py": "",
    "model/model.py": """
import time


class Model:
    def preprocess(self, model_input, files=None):
        if files:
            model_input = dict(model_input, files=[[f.name, f.read().decode()] for f in files])
        return model_input

    def predict(self, model_input):
        if "count" in model_input:
            return self._count(model_input["count"])
        return {"echo": model_input}

    def _count(self, n):
        for i in range(n):
            yield {"chunk": i}
            time.sleep(0.6)
""",
    "examples.yaml": "- name: count-three\n  input: {count: 3}\n- name: with-file\n  input: {top_k: 1}\n  files: {notes: notes.txt}\n",
    "notes.txt": "from the bundle",
}


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path, chromium = shutil.which("chromedriver"), shutil.which("chromium")
    if driver_path is None or chromium is None:
        pytest.fail("chromium and chromium-driver are not installed: run `make test-browser`")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def _wait(check: Callable[[], object], timeout: float = 20) -> object:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def test_the_page_runs_examples_streams_and_sends_files(
    serve: Callable[..., Server], tmp_path: Path, browser: object
) -> None:
    from selenium.webdriver.common.by import By

    driver: object = browser
    server = serve(build_tree(tmp_path / "page-demo", PAGE_MODEL))
    driver.get(server.url + "/")  # type: ignore[attr-defined]
    find = driver.find_element  # type: ignore[attr-defined]
    _wait(lambda: find(By.ID, "name").text == "page-demo")
    assert find(By.ID, "status").text == "ready"
    buttons = _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "button.example"))  # type: ignore[attr-defined]
    assert [b.text for b in buttons] == ["count-three", "with-file"]  # type: ignore[attr-defined]

    buttons[0].click()  # type: ignore[index]
    output = find(By.ID, "output")
    # the first chunk is shown while the model still works on the others
    _wait(lambda: '{"chunk": 0}' in output.text)
    assert output.get_attribute("data-done") is None and '{"chunk": 2}' not in output.text
    _wait(lambda: output.get_attribute("data-done") == "yes")
    assert output.text.split() == ['{"chunk":', "0}", '{"chunk":', "1}", '{"chunk":', "2}"]

    driver.execute_script("document.getElementById('output').removeAttribute('data-done')")  # type: ignore[attr-defined]
    find(By.CSS_SELECTOR, "button.example:nth-of-type(2)").click()
    _wait(lambda: output.get_attribute("data-done") == "yes")
    assert '"from the bundle"' in output.text and '"notes"' in output.text

    picked = tmp_path / "mine.txt"
    picked.write_text("picked by hand")
    editor = find(By.ID, "input")
    editor.clear()
    editor.send_keys('{"question": "files?"}')
    assert find(By.ID, "files-section").is_displayed()
    find(By.ID, "files").send_keys(str(picked))
    driver.execute_script("document.getElementById('output').removeAttribute('data-done')")  # type: ignore[attr-defined]
    find(By.ID, "send").click()
    _wait(lambda: output.get_attribute("data-done") == "yes")
    assert '"question": "files?"' in output.text and '"picked by hand"' in output.text
    assert find(By.ID, "code").text.startswith("200")

    editor.clear()
    editor.send_keys("{not json")
    find(By.ID, "send").click()
    assert "not JSON" in find(By.ID, "input-error").text
