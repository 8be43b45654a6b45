from ganzoo.cli import main

main(prog_name="ganzoo")
