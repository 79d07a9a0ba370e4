from fundapp.errors import DomainError


class GrantError(DomainError):
    """A grant rule refused an action; nothing was written."""


class FundShortfall(GrantError):
    """The fund cannot cover an approval or a budget at this moment."""
