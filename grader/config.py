"""Every setting with its default; create_app layers GRADER_* environment variables and test config on top."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    # flask-smorest: the OpenAPI document and its interactive UI, served offline
    API_TITLE = "BPTT Grader"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/static/"  # the swagger-ui-bundle-v2 files, not a CDN
    # Signs instance tokens; None: generated once and kept in the instance folder (never committed)
    SECRET_KEY = None
    # SQLAlchemy URL; None: SQLite file grader.sqlite in the instance folder
    DATABASE_URL = None
    # Folders holding one sub-folder per exercise, and the catalog of stable misconception slugs
    EXERCISE_DIRS = [str(ROOT / "exercises")]
    MISCONCEPTION_SLUGS = str(ROOT / "exercises" / "misconceptions.json")
    # Requests larger than this get 413 before their body is read
    MAX_CONTENT_LENGTH = 1 << 20
    # An instance token older than this is refused (seconds)
    TOKEN_MAX_AGE_S = 180 * 24 * 3600
    # Numeric submissions answered by grader.api.fastlane, outside Flask's dispatch (same checks, same answers)
    NUMERIC_FAST_LANE = True
    # Keys are required for everything but health, the catalog and the docs
    AUTH_REQUIRED = True
    # Base of the "type" URI of problem responses
    PROBLEM_TYPE_BASE = "/api/v1/problems/"
    # The sandbox zygote's unix socket; None: sandbox.sock in the instance folder
    SANDBOX_SOCKET = None
    # How long the app waits for the sandbox to answer one submission (seconds)
    SANDBOX_TIMEOUT_S = 30.0
    # Per-job limits sent to the sandbox (the zygote's own defaults fill what is not named)
    SANDBOX_LIMITS = {"wall_s": 5.0, "cpu_s": 3, "memory_bytes": 1 << 30}
    # Regular hidden instances per code submission; the exercise's edge cases come on top (2 + 3 = 5)
    CODE_INSTANCES = 2
    # Submissions allowed per learner and exercise, and per key, in a sliding window
    RATE_LIMITS = {"learner_exercise": {"count": 60, "window_s": 600}, "key": {"count": 6000, "window_s": 60}}
    # Redis URL of the Celery broker; None: code is graded in the web process's request (the default)
    QUEUE_URL = None
    # Queued code submissions beyond which POST /submissions answers 503 with Retry-After
    QUEUE_MAX = 1000
    # The longest ?wait= a client may ask for (seconds)
    QUEUE_WAIT_MAX_S = 30
    # Deliveries of one queued submission before it is given up as an error (a poisoned submission)
    GRADING_MAX_ATTEMPTS = 3
    # Seconds after which Redis hands an unacknowledged task (its worker died) to another worker
    QUEUE_VISIBILITY_TIMEOUT_S = 120
    # pending submissions older than this are enqueued again (by the beat schedule every
    # QUEUE_SWEEP_EVERY_S, by `flask sweep-pending`, and when a client retries with its Idempotency-Key)
    QUEUE_SWEEP_AFTER_S = 600
    QUEUE_SWEEP_EVERY_S = 60
    # Webhooks: the whsec_ signing secret (None: derived from SECRET_KEY; `flask webhook-secret` shows it)
    WEBHOOK_SECRET = None
    # Allow callback URLs on private and loopback addresses (off: no SSRF into the service's network)
    WEBHOOK_ALLOW_PRIVATE = False
    # Outbound deliveries: attempts, first backoff (doubling, at most 10 min), the background loop
    DELIVERY_MAX_ATTEMPTS = 8
    DELIVERY_BACKOFF_S = 2.0
    DELIVERY_THREAD = True
    DELIVERY_INTERVAL_S = 1.0
    # The tool's RSA private key, shared by every replica: PEM text, or a file holding it; neither:
    # a development key made once in the instance folder (other replicas would not share it)
    LTI_PRIVATE_KEY = None
    LTI_PRIVATE_KEY_FILE = None
    # A second key (PEM, private or public) published in the JWKS, not used to sign: for rotations
    LTI_ROTATION_KEY = None
    LTI_ROTATION_KEY_FILE = None
    # Reverse proxies in front of the service whose X-Forwarded-For/-Proto/-Host/-Port/-Prefix headers
    # are trusted (Werkzeug's ProxyFix); 0: none, URLs are built from the request as received
    PROXY_HOPS = 0
    # The page session cookie: Lax (the tool opens in a new window) or, for LMS iframes over HTTPS,
    # "None" with Secure and Partitioned (see EMBEDDED_COOKIES)
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    # True: session cookie SameSite=None; Secure; Partitioned, so the tool works inside an LMS iframe
    EMBEDDED_COOKIES = False
    # Logs: one JSON object per line on stderr, at this level
    LOG_JSON = True
    LOG_LEVEL = "INFO"
    # API keys kept per worker (seconds): a key revoked in another worker stops working within this
    # time, at once in the worker that revoked it; 0 looks the key up on every request
    KEY_CACHE_TTL_S = 5.0
    # Generated instances (reference and every variant) kept per exercise and worker; 0 disables
    INSTANCE_CACHE_SIZE = 1024
