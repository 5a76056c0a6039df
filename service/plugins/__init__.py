"""Plug-ins for the modelling layers: PuLP (``mipguide.plugins.pulp.MipguideSolver``), Pyomo
(the solver ``"mipguide"`` of ``SolverFactory``, ``mipguide.plugins.pyomo``) and linopy
(``mipguide.plugins.linopy.solve``). Each exports the model with the layer's own writer
(``mipguide.interop``), solves it here or on a server (``mipguide.plugins.run``), and reads the
solution and the status back into the layer's own objects.
"""
