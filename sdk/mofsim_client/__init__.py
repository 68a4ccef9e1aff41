"""A small Python client for the mofsim REST API (``/api/v1``).

    from mofsim_client import Client
    client = Client("http://localhost:8000", "alice", "secret")
    structure = client.upload_structure("MOF-5.cif")
    task = client.submit("optimization", structure["id"], model="sevennet-0", preset="quick")
    done = client.wait(task["id"])
    print(done["status"], client.result(task["id"])["final_energy_ev"])

It logs in with JWT, refreshes the access token when it expires, and raises ``MofsimError``
carrying the API's error ``code``, ``message`` and ``request_id``.
"""

from mofsim_client.client import Client, MofsimError

__all__ = ["Client", "MofsimError"]
