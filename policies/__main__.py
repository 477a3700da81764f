from pack import main

main()
