"""Making transformers know colorize_hub: every architecture with AutoConfig, AutoModel and AutoImageProcessor,
the "image-colorization" pipeline task, and bundled checkpoint names in `pipeline()`.

`import colorize_hub` promises this, yet must stay light: the command line's help, `list` and argument errors load
no torch. So the registration waits for transformers: it runs at once if transformers is already imported, else
right after transformers' own import (a one-shot import hook), and in any case when the package's first heavy name
(`colorize`, `MODEL_REGISTRY`, ...) is looked up. An import of one of this package's own modules that pulls
transformers in does not register from inside itself (that would import the half-imported module again): the
name lookup that started it registers once it is done.
"""

import importlib
import importlib.abc
import importlib.util
import sys

_registered = False


def register_with_transformers() -> None:
    """Register the architectures and the pipeline task (once; later calls return at once)."""
    global _registered
    if _registered:
        return
    importlib.import_module("colorize_hub.models")  # registers every architecture on import
    from .pipeline import register_pipeline

    register_pipeline()
    _registered = True


def _package_import_in_progress() -> bool:
    """Whether a colorize_hub module is being imported right now (the import system marks its spec meanwhile)."""
    return any(getattr(getattr(module, "__spec__", None), "_initializing", False)
               for name, module in list(sys.modules.items())
               if name == "colorize_hub" or name.startswith("colorize_hub."))


class _RegisterAfterTransformersImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when `transformers` is first imported, registers right after its module has run."""

    def find_spec(self, name, path=None, target=None):
        if name != "transformers":
            return None
        sys.meta_path.remove(self)  # one-shot; find transformers the usual way
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run_module = spec.loader.exec_module

        def run_then_register(module):
            run_module(module)
            if not _package_import_in_progress():
                register_with_transformers()

        spec.loader.exec_module = run_then_register
        return spec


def register_when_transformers_is_imported() -> None:
    """What `import colorize_hub` does: register now if transformers is loaded, else right after it is."""
    if "transformers" in sys.modules:
        register_with_transformers()
    elif not any(isinstance(finder, _RegisterAfterTransformersImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterTransformersImport())
