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


def test_a_page_or_changelist_wider_than_the_window_fails_the_test(visitor):
    visitor.goto("/admin/login/")
    # A changelist's table scrolls inside its own box: the page stays 1440 px wide.
    visitor.page.evaluate(
        "() => { const list = document.createElement('div'); list.id = 'changelist';"
        " list.innerHTML = '<div class=\"results\"><table><tr><td>wide</td></tr></table></div>';"
        " list.querySelector('.results').style.overflowX = 'auto';"
        " list.querySelector('table').style.width = '2000px';"
        " document.body.append(list); }"
    )
    with pytest.raises(pytest.fail.Exception, match=r"changelist is 20\d\dpx wide"):
        visitor.landed()
    visitor.page.evaluate("() => { document.body.style.width = '1600px'; }")
    with pytest.raises(pytest.fail.Exception, match="page is 16"):
        visitor.landed()
