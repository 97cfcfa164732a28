"""The harness itself: it must fail a test on broken pages, or its green means nothing."""

import pytest

pytestmark = pytest.mark.browser


def test_a_page_answering_404_fails_the_test(visitor):
    with pytest.raises(pytest.fail.Exception, match="HTTP 404"):
        visitor.goto("/no-such-page/")
    assert visitor.screenshots[-1].exists()  # the broken page is still kept


def test_a_javascript_error_or_console_error_fails_the_test(visitor):
    visitor.goto("/admin/login/")
    visitor.page.evaluate("setTimeout(() => { throw new Error('boom from test') }, 0)")
    visitor.page.evaluate("console.error('console says no')")
    visitor.page.wait_for_timeout(200)
    with pytest.raises(pytest.fail.Exception) as failed:
        visitor.check()
    assert "boom from test" in str(failed.value) and "console says no" in str(failed.value)


def test_a_missing_asset_fails_the_test(visitor):
    visitor.goto("/admin/login/")
    visitor.page.evaluate(
        "() => new Promise(done => { const s = document.createElement('link');"
        " s.rel = 'stylesheet'; s.href = '/static/smsbot/missing.css';"
        " s.onerror = s.onload = done; document.head.append(s); })"
    )
    with pytest.raises(pytest.fail.Exception, match=r"missing\.css"):
        visitor.check()
