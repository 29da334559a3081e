"""The course pipeline: one source notebook per lesson, everything else generated.

``solutions/NN_topic.ipynb`` is the only notebook an author edits. This package turns it into the
student notebook ``lessons/NN_topic.ipynb`` (:mod:`nnlite.course.build`), verifies that the two
agree and that both are well formed (:mod:`nnlite.course.check`), writes the bundle a class
receives (:mod:`nnlite.course.release`) and executes notebooks in a fresh Jupyter kernel
(:mod:`nnlite.course.execute`). The command line is ``python -m nnlite course ...``
(:mod:`nnlite.course.cli`).

Importing this package imports nothing beyond the standard library; the submodules that read
notebooks need ``nbformat``, and executing them needs ``nbclient`` and ``ipykernel``.
"""
