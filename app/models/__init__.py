"""Every ORM class, imported here so that Alembic and the tests see the whole metadata."""

from app.db.base import Base
from app.models import assessments as assessments
from app.models import criteria as criteria
from app.models import dossiers as dossiers
from app.models import identity as identity
from app.models import integration as integration
from app.models import plans as plans
from app.models import recognitions as recognitions
from app.models import system, units

__all__ = ["Base", "system", "units"]
