"""PyAV's libavcodec in the process: its messages heard only by the thread that listens and only
while it does, PyAV's own settings put back after."""

from __future__ import annotations

import threading

import av.logging

from engine.backends.video.libav import libav_messages, libav_reason, libav_version


def test_the_version_names_pyav_and_libavcodec():
    assert libav_version().startswith(f"pyav {av.__version__}, libavcodec ")


def test_libav_listens_only_while_asked_and_other_threads_stay_quiet(caplog):
    """While a segment encodes, a decoder's complaint in another thread reaches no log; after,
    PyAV's settings are as they were."""
    before = (av.logging.get_level(), av.logging.get_skip_repeated())
    with libav_messages() as mine:
        other = threading.Thread(target=av.logging.log,
                                 args=(av.logging.ERROR, "mp3float", "Header missing"))
        other.start()
        other.join()
        av.logging.log(av.logging.ERROR, "libx264", "mine")
        with libav_messages() as inner:  # a second listener: the innermost hears it
            av.logging.log(av.logging.ERROR, "libx264", "inner")
        av.logging.log(av.logging.ERROR, "libx264", "mine")  # a repeat is kept too
    assert [text for _, _, text in mine] == ["mine", "mine"]
    assert [text for _, _, text in inner] == ["inner"]
    assert not [r for r in caplog.records if "Header missing" in r.getMessage()]
    assert (av.logging.get_level(), av.logging.get_skip_repeated()) == before


def test_a_reason_is_this_threads_words_else_the_error_without_the_process_last_log():
    error = ValueError("Invalid argument: 'avcodec_open2()'; last error log: [x] someone else's")
    assert libav_reason([], error) == "Invalid argument: 'avcodec_open2()'"
    assert libav_reason([(16, "libx264", "bad preset\n")], error) == "bad preset"
