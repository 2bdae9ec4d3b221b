"""The commands that open a trained run, one small module each: ``sample``, ``inpaint``, ``translate``
(``minigan evaluate`` is ``minigan.evaluate``; ``train`` is ``minigan.loop``). ``minigan.cli`` parses the
command line and calls them."""
