"""Before a push: can this machine reach the Hugging Face Hub, and does the Hub accept its token?

Checked before anything is staged or uploaded, so that a push that cannot work ends with one line that says what
to do, not a network traceback halfway through. Loads no torch: the command line checks before the model code.
"""

from huggingface_hub import HfApi, constants, get_token
from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError
from huggingface_hub.utils import get_session

from ..checkpoints import hub_unreachable
from ..errors import ColorizationError

LOGIN = "log in once with `hf auth login` (or set HF_TOKEN) using a token with write access to the repo's namespace"
REACHABLE_TIMEOUT_S = 10


def _unreachable(endpoint: str, error: BaseException) -> ColorizationError:
    return ColorizationError(f"Cannot push: the Hugging Face Hub ({endpoint}) is unreachable ({type(error).__name__}); "
                             "check the network connection (and HTTPS_PROXY or HF_ENDPOINT if you set them), then "
                             "push again.")


def first_line(error: BaseException) -> str:
    """The first line of an error's message (Hub errors add request ids and hints on further lines)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def check_hub_access(api: HfApi) -> str:
    """The name the Hub knows this token by; else a one-line ColorizationError saying what to do.

    Order: offline mode, then reachability, then the token, so the message names the first thing to fix.
    """
    if constants.is_offline_mode():
        raise ColorizationError("Cannot push: offline mode is on (HF_HUB_OFFLINE=1); unset it on a machine that "
                                "reaches the Hugging Face Hub, then push again.")
    if (api.token or get_token()) is None:  # no token: only reachability can be checked, without one
        try:
            get_session().head(api.endpoint, timeout=REACHABLE_TIMEOUT_S)  # any HTTP answer means reachable
        except Exception as error:  # noqa: BLE001 - httpx, socket and proxy errors have no common base
            if hub_unreachable(error):
                raise _unreachable(api.endpoint, error) from error
            raise
        raise ColorizationError(f"Cannot push: not logged in to the Hugging Face Hub; {LOGIN}, then push again.")
    try:
        return api.whoami(cache=True)["name"]
    except LocalTokenNotFoundError as error:
        raise ColorizationError(f"Cannot push: not logged in to the Hugging Face Hub; {LOGIN}.") from error
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status == 401:
            raise ColorizationError(f"Cannot push: the Hub refused the token (invalid or expired); {LOGIN}.") from error
        raise ColorizationError(f"Cannot push: the Hub's login check failed ({first_line(error)}); try again "
                                "later.") from error
    except Exception as error:  # noqa: BLE001
        if hub_unreachable(error):
            raise _unreachable(api.endpoint, error) from error
        raise
