"""The agent seam and what an agent does with a page.

``seam`` is where a task's text becomes browser work (``Agent``, ``AgentContext``); ``builtin`` holds
the reader and the scripted agent, ``model`` finds the model agent (LangChain's, through an entry
point). The actions an agent takes: ``elements`` (click, type, select by reference, over the page
state ``outline`` draws, waiting with ``settle`` for what an action started), ``extract`` (a
schema's fields from the page, a model filling what the rules leave empty) and ``handover`` (the
browser handed to a person and back).

Imports from the rest of the server: ``browser``, ``files``, ``extraction`` and the shared modules
(``errors``, ``jsonsafe``, ``schemas``); nothing that runs tasks or serves HTTP.
"""
