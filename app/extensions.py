"""Extension singletons, created without an app so that any module can import them."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.db import Base, include_name

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True, include_name=include_name)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
