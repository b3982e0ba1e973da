"""PyInstaller runtime hook: point python-vlc at a libvlc bundled inside the app.

Windows and macOS builds carry libvlc and a trimmed plugin set in `<bundle>/vlc/`
(see packaging/cme-offline.spec). Linux builds do not: the .deb depends on the
system's libvlc5 + vlc-plugin-base, so this hook finds nothing there and python-vlc
searches the system as usual. Values already in the environment win, so IT (or a
test) can point the app at another VLC.

Runs before any app code, so before `import vlc` (which reads these variables once).

Diagnostic for IT and the packaging test: `CME_OFFLINE_CHECK_VLC=1 cme-offline` prints one
JSON line saying whether libvlc loads in this installed app, which library and plugins it
uses, and exits (0: video will play, 1: it will not, with the app's own message).
"""

import os
import sys


def _bundled_vlc():
    root = os.path.join(getattr(sys, "_MEIPASS", os.path.dirname(sys.executable)), "vlc")
    if sys.platform.startswith("win"):
        lib = os.path.join(root, "libvlc.dll")
        core = os.path.join(root, "libvlccore.dll")
    elif sys.platform == "darwin":
        lib = os.path.join(root, "lib", "libvlc.dylib")
        core = os.path.join(root, "lib", "libvlccore.dylib")
    else:
        return None  # Linux: the system libvlc (the .deb depends on it)
    plugins = os.path.join(root, "plugins")
    if os.path.isfile(lib) and os.path.isdir(plugins):
        return lib, core, plugins
    return None


def _install():
    found = _bundled_vlc()
    if found is None or "PYTHON_VLC_LIB_PATH" in os.environ:
        return
    lib, core, plugins = found
    os.environ["PYTHON_VLC_LIB_PATH"] = lib
    os.environ.setdefault("PYTHON_VLC_MODULE_PATH", plugins)
    # libvlc reads VLC_PLUGIN_PATH itself; python-vlc also sets it from the module path.
    os.environ.setdefault("VLC_PLUGIN_PATH", plugins)
    if os.path.isfile(core):
        # libvlc links libvlccore by a relative name: load it first from the same folder
        # so the loader finds it even where the folder is not on the search path.
        import ctypes

        try:
            ctypes.CDLL(core)
        except OSError:
            pass  # probe_libvlc() reports the real failure with a readable message


def _check_and_exit():
    import json

    from desktop.media.player import probe_libvlc

    problem = probe_libvlc()
    report = {"ok": problem is None, "problem": problem}
    if problem is None:
        import vlc

        report.update(
            version=vlc.libvlc_get_version().decode(errors="replace"),
            library=getattr(vlc.dll, "_name", None),
            plugins=os.environ.get("VLC_PLUGIN_PATH") or vlc.plugin_path,
            bundled="PYTHON_VLC_LIB_PATH" in os.environ,
        )
    print(json.dumps(report), flush=True)
    raise SystemExit(0 if problem is None else 1)


_install()
if os.environ.get("CME_OFFLINE_CHECK_VLC") == "1":
    _check_and_exit()
del _install, _bundled_vlc, _check_and_exit
