"""Reads of the WhatsApp app: the picker's templates (timeline.sources reads a
lead's sends)."""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from whatsapp.models import WhatsAppSend, WhatsAppTemplate


def templates_for_picker(*, user):
    """Every template, those `user` sent most first (then by name); each
    carries `uses`, that user's count. One query (a correlated count per
    template through the (user, template) index)."""
    uses = (WhatsAppSend.objects.filter(user=user, template=OuterRef("pk"))
            .order_by().values("template").annotate(n=Count("*")).values("n"))
    return list(
        WhatsAppTemplate.objects
        .annotate(uses=Coalesce(Subquery(uses, output_field=IntegerField()), Value(0)))
        .order_by("-uses", "name", "pk")
    )
