"""Values as a reader expects them, with their unit: one formatting for every page."""

from decimal import Decimal


def quantity(value: Decimal | float | None, unit: str = "") -> str:
    """A value with its unit as a reader expects it: "12.3%", "£2,384,555", "7 sites"."""
    if value is None:
        return ""
    number = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{number:,.2f}" if abs(number) >= 10000 else f"{number:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if unit == "%":
        return f"{text}%"
    if unit == "£":
        return f"−£{text.lstrip('-')}" if text.startswith("-") else f"£{text}"
    if unit in ("", "count"):
        return text
    return f"{text} {unit}"
