"""Finding rows by a phone number typed the way people type them."""

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from subscribers.phones import try_normalize


class PhoneSearchMixin:
    """The admin search box takes a number in any format.

    "(312) 555-0123", "whatsapp:+13125550123" and "+13125550123" are the same
    number. An empty search lists everything; anything that is not a number
    goes to search_other(), which finds nothing unless a list says otherwise.
    """

    phone_field = "phone"

    def phone_filter(self, e164: str) -> Q:
        return Q(**{self.phone_field: e164})

    def search_other(self, queryset: QuerySet, term: str) -> QuerySet:
        return queryset.none()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        e164 = try_normalize(term)
        if e164:
            return queryset.filter(self.phone_filter(e164)), False
        return self.search_other(queryset, term), False
