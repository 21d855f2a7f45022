from lipread.cli.main import run

run()
