"""The Pact harness: consumer cases and pact files, provider verification, results and the deploy gate.

Middle layer: the bridge's consumer cases (`swoosh.contracts.pact.bridge`) run the bridge's real code,
so this package may import the bridge; the schema registry (`swoosh.contracts`) must not import it.

consumer.py     cases run against Pact's mock, pact files written and compared
sources.py      the pacts to verify: a directory of pact files or a Pact Broker
verify.py       provider verification of any running service
results.py      verification results on disk
deploy_gate.py  can-i-deploy over those results
cli.py          `swoosh contracts verify` and `swoosh contracts can-i-deploy`
"""
