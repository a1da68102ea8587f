package main

func runEffective(c *cli, args []string) int { return exitInput }
