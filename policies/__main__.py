from china_site.policies.pack import main

main()
