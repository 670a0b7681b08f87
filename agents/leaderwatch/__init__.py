"""leaderwatch: heads of state and government in a stream of news pages, on Kafka + Faust.

pipeline/ pure cores (clean, extract, mentions, alerts), stages/ thin Faust agents over one runner,
leaders/ the gazetteer and matcher, web/ cli/ ops/ views, commands and operations. Importing this
package does nothing; `leaderwatch` (leaderwatch.__main__:main) builds and runs the app.
"""
