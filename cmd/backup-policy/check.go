package main

func runCheck(c *cli, args []string) int { return exitInput }
