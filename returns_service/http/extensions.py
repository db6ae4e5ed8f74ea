"""Flask extensions of the web layer (CSRF, staff sign-in, rate limits), created unbound here
and bound to the app in create_app."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
# Only routes that ask for a limit are limited (no defaults); storage is set by portal.init_app.
limiter = Limiter(key_func=get_remote_address)
